#!/usr/bin/env bash
# Wall time of a Linux 6.1 UML defconfig build with plain gcc and with CC=nccrs, in
# the same O= directory, plus the database size and the TU outcomes; then the latency
# of nccnav queries on that database, nccnav's start-up, and the figures on calls
# through pointers.
#
#   bench/kernel-build.sh [ROUNDS]       (default 1 round)
#
# Each round builds plain, then with nccrs indexing inline (make returns with the
# database complete), then with NCCRS_INDEX=background: the build ratio is when make
# returns, the ready ratio when `nccrs --wait` does. NCCRS_BENCH_MODES="background"
# (or "inline") leaves the other mode out.
#
# Uses the source unpacked by the kernel test ($NCCRS_KERNEL_CACHE, default
# ~/.cache/nccrs/linux-source-6.1) and target/release/nccrs (built first).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1}
cache=${NCCRS_KERNEL_CACHE:-$HOME/.cache/nccrs}
src=$cache/linux-source-6.1
out=$cache/um-bench
jobs=$(nproc)
[ -f "$src/Makefile" ] || { echo "no kernel source at $src: run the kernel test once (cargo test --workspace -- kernel)" >&2; exit 1; }
cargo build --release --quiet
nccrs=$PWD/target/release/nccrs
nccnav=$PWD/target/release/nccnav

modes=${NCCRS_BENCH_MODES:-inline background}

build() { # $1: label, rest: extra make arguments; prints make's start and end times
    local label=$1; shift
    rm -rf "$out" && mkdir -p "$out"
    make -s -C "$src" O="$out" ARCH=um defconfig >/dev/null
    local t0 t1
    t0=$(date +%s.%N)
    make -s -C "$out" ARCH=um -j"$jobs" "$@" >"$out.$label.log" 2>&1
    t1=$(date +%s.%N)
    echo "$t0 $t1"
}
elapsed() { echo "$2 - $1" | bc; }

report() { # $1: round, $2: mode, $3: plain, $4: to make's return, $5: to a complete database
    local db=$out/vmlinux.db size tus bad warnings
    size=$(stat -c %s "$db")
    tus=$("$nccnav" "$db" dump | grep -c '"type":"tu"')
    bad=$("$nccnav" "$db" dump | grep '"type":"tu"' | grep -vc '"status":"ok"' || true)
    warnings=$(grep -c '^nccrs: warning' "$out.$2.log" || true)
    printf 'round %d, %s: plain %.1f s; make returned %.1f s (build ratio %.2f), database complete %.1f s (ready ratio %.2f); %d TUs (%d not ok), %d warnings; database %.1f MB\n' \
        "$1" "$2" "$3" "$4" "$(echo "$4 / $3" | bc -l)" "$5" "$(echo "$5 / $3" | bc -l)" \
        "$tus" "$bad" "$warnings" "$(echo "$size / 1000000" | bc -l)"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(gcc --version | head -1)"
for r in $(seq "$rounds"); do
    for mode in $modes; do
        plain=$(elapsed $(build plain))
        read -r t0 t1 < <(NCCRS_INDEX=$mode build "$mode" CC="$nccrs")
        wrapped=$(elapsed "$t0" "$t1")
        # The wait's warnings go to the same log as the build's.
        "$nccrs" --wait "$out/vmlinux.db" >/dev/null 2>>"$out.$mode.log" || true
        ready=$(elapsed "$t0" "$(date +%s.%N)")
        report "$r" "$mode" "$plain" "$wrapped" "$ready"
    done
done
# Query latency and start-up on the last nccrs database.
python3 bench/query-latency.py "$out/vmlinux.db" 1000 "$nccnav"
NAV_BENCH_TERMINAL_ONLY=1 bench/nav-latency.sh "$out/vmlinux.db" 10 || true
bench/indirect-calls.sh "$out/vmlinux.db" || true
