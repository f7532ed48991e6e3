#!/usr/bin/env bash
# Wall time of a Linux 6.1 UML defconfig build with plain gcc and with CC=nccrs, in
# the same O= directory, plus the database size and the TU outcomes; then the latency
# of nccnav queries on that database and the figures on calls through pointers.
#
#   bench/kernel-build.sh [ROUNDS]       (default 1 round: one plain, one nccrs build)
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

build() { # $1: label, rest: extra make arguments
    local label=$1; shift
    rm -rf "$out" && mkdir -p "$out"
    make -s -C "$src" O="$out" ARCH=um defconfig >/dev/null
    local t0 t1
    t0=$(date +%s.%N)
    make -s -C "$out" ARCH=um -j"$jobs" "$@" >"$out.$label.log" 2>&1
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(gcc --version | head -1)"
for r in $(seq "$rounds"); do
    plain=$(build plain)
    wrapped=$(build nccrs CC="$nccrs")
    db=$out/vmlinux.db
    size=$(stat -c %s "$db")
    tus=$("$nccnav" "$db" dump | grep -c '"type":"tu"')
    bad=$("$nccnav" "$db" dump | grep '"type":"tu"' | grep -vc '"status":"ok"' || true)
    warnings=$(grep -c '^nccrs: warning' "$out.nccrs.log" || true)
    printf 'round %d: plain %.1f s, nccrs %.1f s, ratio %.2f; %d TUs (%d not ok), %d warnings; database %.1f MB\n' \
        "$r" "$plain" "$wrapped" "$(echo "$wrapped / $plain" | bc -l)" "$tus" "$bad" "$warnings" "$(echo "$size / 1000000" | bc -l)"
done
# Query latency on the last nccrs database.
python3 bench/query-latency.py "$out/vmlinux.db" 1000 "$nccnav"
bench/indirect-calls.sh "$out/vmlinux.db" || true
