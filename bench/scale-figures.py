#!/usr/bin/env python3
"""How a database's parts grow with the number of units: for each database, its rows
by table, its size, and the pairs (pointer, function) that calls through pointers
resolve to; and between the first and each later one, how fast each grows against
the units (an exponent: 1 is linear, above 1 grows faster than the build).

    bench/scale-figures.py SMALL.db LARGER.db [...]
"""
import math
import os
import sqlite3
import sys

REACH = """WITH RECURSIVE reach(ptr, fn) AS (
    SELECT s.target, s.value FROM stores s CROSS JOIN symbols y ON y.id = s.value
    WHERE y.kind = 'function'
    UNION SELECT s.target, r.fn FROM stores s JOIN reach r ON s.value = r.ptr)"""


def figures(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    one = lambda sql: db.execute(sql).fetchone()[0]
    f = {
        "units": one("SELECT count(*) FROM tus"),
        "size MB": os.path.getsize(path) / 1e6,
    }
    for t in ("symbols", "definitions", "calls", "stores", "uses", "chunks", "tu_chunks"):
        f[t] = one(f"SELECT count(*) FROM {t}")
    f["reach pairs"] = one(f"{REACH} SELECT count(*) FROM reach")
    f["largest target set"] = one(
        f"{REACH} SELECT max(n) FROM (SELECT count(*) n FROM reach GROUP BY ptr)"
    )
    return f


dbs = sys.argv[1:]
if not dbs:
    sys.exit(__doc__)
rows = [(p, figures(p)) for p in dbs]
keys = list(rows[0][1].keys())
print("| " + " | ".join(["what"] + [os.path.basename(os.path.dirname(os.path.abspath(p))) or p for p, _ in rows]) + " |")
print("|" + "---|" * (len(rows) + 1))
for k in keys:
    cells = []
    for _, f in rows:
        v = f[k]
        cells.append(f"{v:,.1f}" if isinstance(v, float) else f"{v:,}")
    print(f"| {k} | " + " | ".join(cells) + " |")
base = rows[0][1]
for p, f in rows[1:]:
    growth = math.log(f["units"] / base["units"])
    if growth <= 0:
        continue
    print(f"\ngrowth from {dbs[0]} to {p} ({f['units'] / base['units']:.2f} times the units), as an exponent of the units:")
    for k in keys:
        if k == "units" or not base[k] or not f[k]:
            continue
        e = math.log(f[k] / base[k]) / growth
        mark = "  <- faster than the units" if e > 1.1 else ""
        print(f"  {k:20} {e:5.2f}{mark}")
