#!/usr/bin/env python3
"""A random sample of the call sites through pointers that reach no function: what
`bench/indirect-calls.sh` counts as not reaching, to classify by hand.

    bench/unreached-sample.py DB N [SEED]

Prints one site a line, tab-separated: caller, pointer (scope::name), the pointer's
kind, file, line, column, dead. The same database, N and SEED give the same sample;
a site that reaches a function after an indexer change drops out of a later run's
list, so taking the first sites of the same sample that still reach nothing keeps
it random.
"""
import random
import sqlite3
import sys

db, n = sys.argv[1], int(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 5
conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
reach = """WITH RECURSIVE reach(ptr, fn) AS (
    SELECT s.target, s.value FROM stores s JOIN symbols y ON y.id = s.value
    WHERE y.kind = 'function'
    UNION SELECT s.target, r.fn FROM stores s JOIN reach r ON s.value = r.ptr)"""
rows = conn.execute(
    reach
    + """
 SELECT DISTINCT cr.name, COALESCE(y.scope || '::', '') || y.name, y.kind, f.path,
        c.line, c.col, c.dead
 FROM calls c JOIN symbols y ON y.id = c.callee JOIN symbols cr ON cr.id = c.caller
      JOIN files f ON f.id = c.file
 WHERE c.indirect AND c.callee NOT IN (SELECT ptr FROM reach)
 ORDER BY f.path, c.line, c.col, cr.name"""
).fetchall()
print(f"{len(rows)} call sites through pointers reach nothing", file=sys.stderr)
random.seed(seed)
for r in random.sample(rows, min(n, len(rows))):
    print("\t".join(map(str, r)))
