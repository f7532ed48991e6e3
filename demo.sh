#!/usr/bin/env bash
# Installs what is missing, builds nccrs, builds the bundled example kernel tree
# (fixtures/minikernel) with `make CC=nccrs`, and asks nccnav about it.
set -euo pipefail
cd "$(dirname "$0")"
.ci/install-deps
cargo build --release --quiet
bin="$PWD/target/release"
build="$PWD/fixtures/minikernel/build"
rm -rf "$build"
make -s -C fixtures/minikernel CC="$bin/nccrs" O="$build"
db="$build/vmlinux.db"
# make returns when the compiles are done; the indexing finishes behind it.
"$bin/nccrs" --wait "$db"
for q in "def mmlist_lock" "def rename_lock" "def __do_sys_read" "callees __do_sys_read" \
         "callers vfs_read" "callees vfs_read" "def init" "callers fs/dcache.c:init" \
         "callers spin_lock" "callees wait_for_children"; do
    echo "\$ nccnav vmlinux.db $q"
    "$bin/nccnav" "$db" $q
    echo
done
echo "database: $db"
