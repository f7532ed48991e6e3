#!/bin/sh
# Where a database's bytes are (SQLite's dbstat: each table and index), and what this
# checkout's schema makes of it: a copy is upgraded by the schema's migrations and
# compacted, as the next build into it would leave it, then measured the same way,
# with bench/query-latency.py on the copy.
#
#   bench/db-size.sh DB [QUERIES]     (QUERIES symbols for the latency, default 1000)
set -eu
db=$1
queries=${2:-1000}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release --quiet -p nccrs-schema --example upgrade
cargo build --release --quiet -p nccnav
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

where() {
    printf '%s: %s bytes, schema %s\n' "$1" "$(stat -c %s "$1")" \
        "$(sqlite3 "$1" 'PRAGMA user_version')"
    sqlite3 "$1" "SELECT printf('  %-28s %8.1f MB', name, sum(pgsize) / 1e6)
        FROM dbstat GROUP BY name ORDER BY sum(pgsize) DESC LIMIT 14"
}

where "$db"
cp "$db" "$scratch/up.db"
target/release/examples/upgrade "$scratch/up.db"
where "$scratch/up.db"
sqlite3 "$scratch/up.db" "SELECT 'rows: uses ' || (SELECT count(*) FROM uses)
    || ', definitions ' || (SELECT count(*) FROM definitions)
    || ', calls ' || (SELECT count(*) FROM calls) || ', chunks ' || (SELECT count(*) FROM chunks)"
python3 bench/query-latency.py "$scratch/up.db" "$queries" target/release/nccnav
