#!/usr/bin/env python3
"""Instructions nccrs executes to index one unit of an indexed build, counted by
valgrind's callgrind (repeatable to a few parts in a million, whatever else the machine
does): the unit indexed once into a scratch database and facts cache, then again as
the next unit of a build meets it — its headers' facts recorded, its own file not (one
more warning option on its command line).
Prints the second indexing's instructions and, with --top N, the N functions of nccrs
that cost most, inclusive (libclang's parse is the rest).

    bench/tu-instructions.py BUILD_DIR SOURCE_SUFFIX [--top N] [--out FILE]

--out FILE keeps the indexer's callgrind profile (for `callgrind_annotate FILE`).

NCCRS names the binary (default: this checkout's release build).
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
nccrs = os.environ.get("NCCRS", f"{here}/target/release/nccrs")
nccnav = os.environ.get("NCCNAV", f"{here}/target/release/nccnav")
build, suffix = sys.argv[1], sys.argv[2]
top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 0
keep = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None

dump = subprocess.run(
    [nccnav, f"{build}/vmlinux.db", "dump"], capture_output=True, text=True, check=True
).stdout
unit = next(
    (
        u
        for u in map(json.loads, (l for l in dump.splitlines() if l.startswith('{"type":"tu"')))
        if u["command"][-1].endswith(suffix)
    ),
    None,
)
if unit is None:
    sys.exit(f"no unit ends with {suffix}")
args = [a for a in unit["command"][1:] if not a.startswith(("-Wp,-MMD", "-Wp,-MD"))]
# A warning option: not among the arguments libclang is given, so the headers read as
# before, but a new unit for the facts cache.
again = args[:1] + ["-Wno-nccrs-tu-instructions"] + args[1:]

with tempfile.TemporaryDirectory() as scratch:
    env = dict(
        os.environ,
        NCCRS_DB=f"{scratch}/p.db",
        NCCRS_INDEX="inline",
        NCCRS_CACHE_DIR=f"{scratch}/cache",
        NCCRS_CACHE_SIZE="2G",
        # callgrind runs the indexer some 50 times slower than it runs.
        NCCRS_INDEX_TIMEOUT="3600",
    )
    subprocess.run([nccrs, "true", *args], cwd=unit["directory"], env=env, check=True)
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--trace-children=yes",
            f"--callgrind-out-file={scratch}/cg.%p",
            nccrs,
            "true",
            *again,
        ],
        cwd=unit["directory"],
        env=env,
        check=True,
        stderr=subprocess.DEVNULL,
    )
    totals = {}
    for f in glob.glob(f"{scratch}/cg.*"):
        for line in open(f, errors="replace"):
            if line.startswith(("summary:", "totals:")):
                totals[f] = int(line.split()[1])
                break
    # The indexer is the process that executes the most; the wrapper and `true` little.
    biggest = max(totals, key=totals.get)
    if keep:
        import shutil

        shutil.copy(biggest, keep)
    print(f"{suffix}: {sum(totals.values()):,} instructions in {len(totals)} processes, "
          f"the indexer {totals[biggest]:,}")
    if top:
        out = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", biggest],
            capture_output=True, text=True,
        ).stdout
        shown = 0
        for line in out.splitlines():
            # Not the recursive frames (`walk'2`), which count their callers again.
            if (
                re.match(r"^\s*[\d,]+ \(", line)
                and re.search(r"(indexer|schema)::", line)
                and "'" not in line.split("[")[0]
            ):
                print("  " + line.strip()[:160])
                shown += 1
                if shown == top:
                    break
