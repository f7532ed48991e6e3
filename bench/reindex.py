#!/usr/bin/env python3
"""Indexes the units of a build again, one at a time in the build's order, into a
scratch database and facts cache: nccrs's own processor time per unit, with no
compiler and no make around it (the compiler is `true`; nothing is written but the
database and the cache).

    bench/reindex.py BUILD_DIR OUT_DB [EVERY]

BUILD_DIR is an indexed build (its `vmlinux.db` lists the units, their commands and
directories, and its generated headers are still there). EVERY=K takes every K-th
unit only; NCCRS_UNITS=REGEX only the units whose source file matches it (a check
of a few units' facts). NCCRS_WARM=CACHE_DIR starts from a copy of an earlier
run's facts cache without its units' entries: every unit is parsed again, its
headers' facts recorded (the steady state of a build). NCCRS and NCCNAV name the binaries (default: this checkout's release
build). NCCRS_CACHE_SIZE=0 indexes without the facts cache, every header extracted
(`dump --canonical` of such a database against one made with the cache checks that
taking header facts as recorded changes no fact). NCCRS_INDEX=background indexes as
a build does by default: each unit's job is registered by its wrapper, then one
`nccrs --wait` indexes them all, with as many indexers at once as there are
processors (which live across units); without it, each unit is indexed beside its
wrapper, one at a time (`inline`). OUT_DB and `OUT_DB.cache` are made afresh; the profile lines
(`NCCRS_PROFILE`) go to `OUT_DB.profile`. Prints the processor time per unit, and the
sums of the profile's columns.
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import time

here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
nccrs = os.environ.get("NCCRS", f"{here}/target/release/nccrs")
nccnav = os.environ.get("NCCNAV", f"{here}/target/release/nccnav")
build, out = sys.argv[1], os.path.abspath(sys.argv[2])
every = int(sys.argv[3]) if len(sys.argv) > 3 else 1

dump = subprocess.run(
    [nccnav, f"{build}/vmlinux.db", "dump"], capture_output=True, text=True, check=True
).stdout
units = [json.loads(l) for l in dump.splitlines() if l.startswith('{"type":"tu"')]
units = [u for u in units if u.get("status") == "ok"][::every]
if os.environ.get("NCCRS_UNITS"):
    import re

    wanted = re.compile(os.environ["NCCRS_UNITS"])
    units = [u for u in units if wanted.search(u["command"][-1])]

cache = out + ".cache"
profile = out + ".profile"
for p in (out, profile):
    if os.path.exists(p):
        os.remove(p)
if os.environ.get("NCCRS_WARM"):
    # The header facts of an earlier run stay; the units' own entries go, so that
    # every unit is parsed again (the steady state of a build: headers recorded).
    shutil.rmtree(cache, ignore_errors=True)
    shutil.copytree(os.environ["NCCRS_WARM"], cache)
    for d, _, names in os.walk(cache):
        for n in names:
            if n.endswith((".m", ".f")):
                os.remove(os.path.join(d, n))
else:
    shutil.rmtree(cache, ignore_errors=True)
for p in (out + ".pending",):
    shutil.rmtree(p, ignore_errors=True)

background = os.environ.get("NCCRS_INDEX") == "background"
env = dict(os.environ)
env.update(
    NCCRS_DB=out,
    NCCRS_INDEX="background" if background else "inline",
    NCCRS_CACHE_DIR=cache,
    NCCRS_CACHE_SIZE=os.environ.get("NCCRS_CACHE_SIZE", "20G"),
    NCCRS_PROFILE=profile,
)
failed = 0
t0 = time.monotonic()
before = resource.getrusage(resource.RUSAGE_CHILDREN)
lock = None
if background:
    # Held while the jobs are registered, so that no drainer starts: `nccrs --wait`
    # below drains them, as its child, where this process can count its time.
    import fcntl

    os.makedirs(out + ".pending", exist_ok=True)
    lock = open(out + ".pending/drain.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
for u in units:
    cmd = u["command"]
    # The compile's own arguments but its dependency file; the object names the unit
    # (`true` writes nothing).
    args = [a for a in cmd[1:] if not a.startswith(("-Wp,-MMD", "-Wp,-MD"))]
    r = subprocess.run([nccrs, "true", *args], cwd=u["directory"], env=env)
    failed += r.returncode != 0
if lock:
    lock.close()
    r = subprocess.run([nccrs, "--wait", out], env=env, capture_output=True, text=True)
    failed += len(r.stderr.splitlines())
    sys.stderr.write(r.stderr)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
wall = time.monotonic() - t0
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
n = len(units)
indexers = {l.rstrip("\n").rsplit("\tindexer=", 1)[1] for l in open(profile) if "\tindexer=" in l}
if indexers:
    print(f"indexer processes={len(indexers)}")
print(f"units={n} failed={failed} wall={wall:.1f}s cpu={cpu:.1f}s cpu_per_unit={cpu / n:.3f}s")
sums = {}
for line in open(profile):
    for kv in line.rstrip("\n").split("\t")[1:]:
        k, v = kv.split("=")
        if k != "indexer":
            sums[k] = sums.get(k, 0) + float(v)
print(" ".join(f"{k}={v / n:.1f}" if k.endswith("_ms") else f"{k}={v:.0f}" for k, v in sums.items()))
