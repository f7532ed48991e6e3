#!/bin/sh
# Calls through pointers in an nccrs database: how many call sites, how many reach at
# least one function through the recorded stores and copies, the largest target
# sets, and the size of each fact table. Needs the sqlite3 command.
#
#   bench/indirect-calls.sh BUILD_DIR/vmlinux.db
set -eu
db=$1
reach="WITH RECURSIVE reach(ptr, fn) AS (
    SELECT s.target, s.value FROM stores s JOIN symbols y ON y.id = s.value
    WHERE y.kind = 'function'
    UNION SELECT s.target, r.fn FROM stores s JOIN reach r ON s.value = r.ptr)"
sqlite3 -readonly "$db" <<SQL
.mode list
SELECT 'call sites through pointers: ' || COUNT(*)
  FROM (SELECT DISTINCT caller, callee, file, line, col FROM calls WHERE indirect);
$reach SELECT 'of which reach at least one function: ' || COUNT(*)
  FROM (SELECT DISTINCT caller, callee, file, line, col FROM calls
        WHERE indirect AND callee IN (SELECT ptr FROM reach));
SELECT 'by kind of pointer:';
SELECT '  ' || y.kind || ': ' || COUNT(*) FROM
  (SELECT DISTINCT caller, callee, file, line, col FROM calls WHERE indirect) c
  JOIN symbols y ON y.id = c.callee GROUP BY y.kind;
SELECT 'largest target sets:';
$reach SELECT '  ' || COALESCE(y.scope || '::', '') || y.name || ': ' || COUNT(DISTINCT fn)
  FROM reach JOIN symbols y ON y.id = reach.ptr
  GROUP BY ptr ORDER BY COUNT(DISTINCT fn) DESC LIMIT 10;
SELECT 'rows: calls ' || (SELECT COUNT(*) FROM calls) || ', stores ' || (SELECT COUNT(*) FROM stores)
  || ', uses ' || (SELECT COUNT(*) FROM uses) || ', definitions ' || (SELECT COUNT(*) FROM definitions);
SQL
echo "database: $(du -m "$db" | cut -f1) MB ($(stat -c %s "$db") bytes)"
