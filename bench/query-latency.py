#!/usr/bin/env python3
"""Latency of nccnav's def, callers and callees over random symbols of a database, as
a user sees it (one nccnav process per query: start-up, open, query, print).

    bench/query-latency.py DB [COUNT] [NCCNAV]      (default 1000 symbols, seed 1)
"""
import json
import random
import statistics
import subprocess
import sys
import time

db = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
nccnav = sys.argv[3] if len(sys.argv) > 3 else "target/release/nccnav"

names = set()
dump = subprocess.run([nccnav, db, "dump"], capture_output=True, check=True, text=True)
for line in dump.stdout.splitlines():
    if line.startswith('{"type":"symbol"'):
        s = json.loads(line)
        if s["kind"] in ("function", "variable") and s.get("definition"):
            names.add(s["name"])
random.seed(1)
picked = random.sample(sorted(names), min(count, len(names)))

def timed(args):
    t = time.perf_counter()
    subprocess.run([nccnav, db] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000

start = sorted(timed(["def", "--help"]) for _ in range(50))
print(f"nccnav start-up (--help): median {statistics.median(start):.1f} ms")
for cmd in ("def", "callers", "callees"):
    ms = sorted(timed([cmd, n]) for n in picked)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"{cmd:8} over {len(ms)} symbols: median {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms")
