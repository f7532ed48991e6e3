#!/usr/bin/env python3
"""Runs a command and reports the wall time and the processor time of everything it
started, including processes that outlive it (nccrs's background drainer and its
indexers): this process becomes a child subreaper, so orphaned descendants are
reparented to it, and it waits for every one of them before reading its children's
resource usage.

    bench/cpu-time.py OUTPUT_FILE COMMAND [ARGS...]

Writes `returned=S done=S cpu=S cpu_after=S` to OUTPUT_FILE (the command's own
output is left alone) and exits with the command's status: when the command returned
and when the last of its descendants ended (wall seconds), the processor time of the
command's own tree (what it waited for) and of the descendants that outlived it (with
NCCRS_INDEX=background: the drainer and its indexers, all of the indexing).
"""
import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36

out = sys.argv[1]
cmd = sys.argv[2:]
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit(f"cpu-time: prctl: {os.strerror(ctypes.get_errno())}")
t0 = time.monotonic()
status = subprocess.call(cmd)
returned = time.monotonic() - t0
# Reparented descendants are not reaped yet: this is the command's own tree.
own = resource.getrusage(resource.RUSAGE_CHILDREN)
# Every descendant that outlived the command is ours now: wait for all of them.
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
done = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime
after = ru.ru_utime + ru.ru_stime - cpu
with open(out, "w") as f:
    f.write(f"returned={returned:.1f} done={done:.1f} cpu={cpu:.1f} cpu_after={after:.1f}\n")
sys.exit(status)
