#!/usr/bin/env bash
# nccrs on the kernels developers build today, Linux 6.12 (Debian's linux-source-6.12):
#
#   bench/kernel-scale.sh defconfig   native x86_64 defconfig with modules, indexed in
#                                     the background: build and indexing times, the
#                                     indexing's processor time per unit, the database,
#                                     query latency, the navigator's start and memory,
#                                     and the module facts
#   bench/kernel-scale.sh header      x86_64 tinyconfig: an edit to a widely included
#                                     header, then make; the database's facts against a
#                                     from-scratch build's (dump --canonical)
#   bench/kernel-scale.sh ccache      x86_64 tinyconfig with NCCRS_CC="ccache gcc": a
#                                     rebuild served by ccache still indexes every unit
#   bench/kernel-scale.sh all         the three
#
# Uses the source unpacked by the kernel tests ($NCCRS_KERNEL_CACHE, default
# ~/.cache/nccrs/linux-source-6.12) and target/release/nccrs (built first). Processor
# times come from bench/cpu-time.py, which also counts the background indexing that
# outlives make.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
cache=${NCCRS_KERNEL_CACHE:-$HOME/.cache/nccrs}
src=$cache/linux-source-6.12
jobs=$(nproc)
[ -f "$src/Makefile" ] || { echo "no kernel source at $src: run the kernel tests once (cargo test --workspace -- kernel_6_12)" >&2; exit 1; }
cargo build --release --quiet
cargo build --release --quiet -p nccnav --example tui-bench
nccrs=$PWD/target/release/nccrs
nccnav=$PWD/target/release/nccnav
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 1970" KBUILD_BUILD_USER=nccrs KBUILD_BUILD_HOST=nccrs
unset NCCRS_DB

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(gcc --version | head -1); $(date -u +%F)"

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$2"; }

units_of() { "$nccnav" "$1" dump | grep -c '"type":"tu"'; }

defconfig() {
    local out=$cache/x86-defconfig-bench times=$cache/x86-defconfig-bench.times
    rm -rf "$out" && mkdir -p "$out"
    make -s -C "$src" O="$out" defconfig >/dev/null
    echo "== x86_64 defconfig with modules, NCCRS_INDEX=background"
    NCCRS_INDEX=background python3 bench/cpu-time.py "$times" \
        make -s -C "$out" -j"$jobs" CC="$nccrs" >"$out.log" 2>&1
    local db=$out/vmlinux.db
    "$nccrs" --wait "$db" >/dev/null
    local units size symbols
    units=$(units_of "$db")
    size=$(stat -c %s "$db")
    printf 'make returned %.0f s, database complete %.0f s; processor time: build %.0f s, indexing %.0f s = %.3f s per unit\n' \
        "$(field returned "$times")" "$(field done "$times")" "$(field cpu "$times")" \
        "$(field cpu_after "$times")" "$(echo "$(field cpu_after "$times") / $units" | bc -l)"
    printf '%d units (%d not ok, %d built as modules); database %.1f MB\n' "$units" \
        "$("$nccnav" "$db" dump | grep '"type":"tu"' | grep -vc '"status":"ok"' || true)" \
        "$("$nccnav" "$db" dump | grep '"type":"tu"' | grep -c '"module":true' || true)" \
        "$(echo "$size / 1000000" | bc -l)"
    python3 - "$db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for t in ("files", "symbols", "definitions", "calls", "stores", "uses", "chunks", "tu_chunks"):
    print(f"  {t}: {db.execute(f'SELECT count(*) FROM {t}').fetchone()[0]} rows")
EOF
    echo "-- modules"
    "$nccnav" "$db" def __this_module | head -3
    echo "-- callers of exported functions, from modules too"
    "$nccnav" "$db" callers nf_log_register || true
    "$nccnav" "$db" callers xt_register_targets | grep -E "xt_nat|xt_LOG|xt_MASQUERADE" || true
    "$nccnav" "$db" path do_syscall_64 vfs_read || true
    echo "-- queries"
    python3 bench/query-latency.py "$db" 1000 "$nccnav"
    echo "-- navigator"
    /usr/bin/time -f "navigator with the symbol list loaded: max RSS %M KB" \
        target/release/examples/tui-bench "$db" 100
}

tiny() { # $1: source tree, $2: build tree, rest: make variables
    local tree=$1 out=$2; shift 2
    rm -rf "$out" && mkdir -p "$out"
    make -s -C "$tree" O="$out" "$@" tinyconfig >/dev/null
}

header() {
    local tree=$cache/linux-6.12-header-bench out=$cache/x86-tiny-header-bench
    rm -rf "$tree" && cp -a --reflink=auto "$src" "$tree"
    tiny "$tree" "$out"
    echo "== x86_64 tinyconfig: include/linux/kernel.h edited, then make"
    python3 bench/cpu-time.py "$out.times" make -s -C "$out" -j"$jobs" CC="$nccrs" >"$out.log" 2>&1
    "$nccrs" --wait "$out/vmlinux.db" >/dev/null
    echo "first build: $(cat "$out.times"), $(units_of "$out/vmlinux.db") units"
    # A new line near the top: every later line of kernel.h moves, in every unit.
    sed -i '0,/^#include/s//\/* nccrs bench: an edit *\/\nstatic inline int nccrs_bench_edit(void) { return 1; }\n#include/' \
        "$tree/include/linux/kernel.h"
    python3 bench/cpu-time.py "$out.times" make -s -C "$out" -j"$jobs" CC="$nccrs" >>"$out.log" 2>&1
    "$nccrs" --wait "$out/vmlinux.db" >/dev/null
    echo "after the edit: $(cat "$out.times"), $(find "$out" -name '*.o' -newer "$tree/include/linux/kernel.h" | wc -l) objects rebuilt"
    "$nccnav" "$out/vmlinux.db" dump --canonical >"$out.incremental"
    # From scratch, in the same directory: the same commands and paths.
    make -s -C "$out" clean
    rm -rf "$out"/vmlinux.db*
    make -s -C "$out" -j"$jobs" CC="$nccrs" >>"$out.log" 2>&1
    "$nccrs" --wait "$out/vmlinux.db" >/dev/null
    "$nccnav" "$out/vmlinux.db" dump --canonical >"$out.scratch"
    if cmp -s "$out.incremental" "$out.scratch"; then
        echo "facts after the edit equal a from-scratch build's: $(wc -l <"$out.scratch") lines"
    else
        echo "facts differ from a from-scratch build's: $(diff "$out.incremental" "$out.scratch" | grep -c '^[<>]') lines"
        diff "$out.incremental" "$out.scratch" | head -20
    fi
    "$nccnav" "$out/vmlinux.db" def nccrs_bench_edit
    rm -rf "$tree"
}

ccache_run() {
    command -v ccache >/dev/null || { echo "ccache is needed (apt-get install ccache)" >&2; return 1; }
    local out=$cache/x86-tiny-ccache-bench
    export CCACHE_DIR=$cache/ccache-bench
    rm -rf "$CCACHE_DIR"
    tiny "$src" "$out"
    echo "== x86_64 tinyconfig, NCCRS_CC=\"ccache gcc\""
    NCCRS_CC="ccache gcc" python3 bench/cpu-time.py "$out.times" make -s -C "$out" -j"$jobs" CC="$nccrs" >"$out.log" 2>&1
    "$nccrs" --wait "$out/vmlinux.db" >/dev/null
    echo "cold cache: $(cat "$out.times"), $(units_of "$out/vmlinux.db") units"
    make -s -C "$out" clean
    rm -rf "$out"/vmlinux.db*
    ccache -z >/dev/null
    NCCRS_CC="ccache gcc" python3 bench/cpu-time.py "$out.times" make -s -C "$out" -j"$jobs" CC="$nccrs" >>"$out.log" 2>&1
    "$nccrs" --wait "$out/vmlinux.db" >/dev/null
    local objects
    objects=$(find "$out" -name '*.o.cmd' -exec grep -l "^\(saved\)\?cmd_.*nccrs .*\.c\b" {} + | wc -l)
    echo "rebuild served by ccache: $(cat "$out.times"); $(units_of "$out/vmlinux.db") units indexed of $objects C objects compiled through nccrs"
    ccache -s | grep -Ei "hits|misses" | head -4
}

case $what in
    defconfig) defconfig ;;
    header) header ;;
    ccache) ccache_run ;;
    all) defconfig; header; ccache_run ;;
    *) echo "usage: bench/kernel-scale.sh defconfig|header|ccache|all" >&2; exit 2 ;;
esac
