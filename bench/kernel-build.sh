#!/usr/bin/env bash
# Wall and processor time of a Linux UML defconfig build with plain gcc and with
# CC=nccrs, in the same O= directory, plus the database size and the TU outcomes; then
# the latency of nccnav queries on that database, nccnav's start-up, and the figures
# on calls through pointers.
#
#   bench/kernel-build.sh [ROUNDS]       (default 1 round)
#
# Each round, for each mode of NCCRS_BENCH_MODES (default "background", nccrs's
# default; "inline" is the other), builds from scratch plain, then with nccrs; then
# `make clean` and the build again, plain then with nccrs (the facts cache serves
# what the first build indexed); then `touch` of a widely included header
# ($NCCRS_BENCH_HEADER, default include/linux/fs.h) and make, plain then with nccrs.
# The build ratio is when make returns, the ready ratio when the database is complete
# (the last of the build's processes, the background drainer's included, has ended),
# each against the plain build of the same step; nccrs's processor time per unit is
# everything the nccrs build used beyond the plain build, over the units it indexed.
# Each round starts with an empty facts cache of its own ($out.facts). The last lines
# give the median ratios over the rounds.
#
# NCCRS_BENCH_STEPS picks the steps (default "scratch clean touch"; scratch always runs).
# NCCRS_BENCH_KERNEL picks the source (default 6.12: Debian's linux-source-6.12, as
# unpacked by the kernel tests into $NCCRS_KERNEL_CACHE, default ~/.cache/nccrs).
# Uses target/release/nccrs (built first).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1}
cache=${NCCRS_KERNEL_CACHE:-$HOME/.cache/nccrs}
version=${NCCRS_BENCH_KERNEL:-6.12}
src=$cache/linux-source-$version
out=$cache/um-bench-$version
jobs=$(nproc)
[ -f "$src/Makefile" ] || { echo "no kernel source at $src: run the kernel tests once (cargo test --workspace -- kernel)" >&2; exit 1; }
cargo build --release --quiet
nccrs=$PWD/target/release/nccrs
nccnav=$PWD/target/release/nccnav

modes=${NCCRS_BENCH_MODES:-background}
header=${NCCRS_BENCH_HEADER:-include/linux/fs.h}
steps=${NCCRS_BENCH_STEPS:-scratch clean touch}
export NCCRS_CACHE_DIR=$out.facts

build() { # $1: label, $2: scratch|clean|touch, rest: extra make arguments; leaves
           # bench/cpu-time.py's figures in $out.$1.times, nccrs's profile in $out.$1.profile
    local label=$1 how=$2; shift 2
    case $how in
        scratch) rm -rf "$out" && mkdir -p "$out"
                 make -s -C "$src" O="$out" ARCH=um defconfig >/dev/null ;;
        clean) make -s -C "$out" ARCH=um clean >/dev/null ;;
        touch) touch "$src/$header" ;;
    esac
    rm -f "$out.$label.profile"
    NCCRS_PROFILE=$out.$label.profile python3 bench/cpu-time.py "$out.$label.times" \
        make -s -C "$out" ARCH=um -j"$jobs" "$@" >"$out.$label.log" 2>&1
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$out.$2.times"; }

report() { # $1: round, $2: the nccrs build's label, $3: the plain build's; prints one
           # line, and the two ratios to $out.ratios
    local db=$out/vmlinux.db size tus bad warnings plain returned done extra indexed hits
    # The warnings of background indexing, which the build's output does not have.
    "$nccrs" --wait "$db" >/dev/null 2>>"$out.$2.log" || true
    size=$(stat -c %s "$db")
    tus=$("$nccnav" "$db" dump | grep -c '"type":"tu"')
    bad=$("$nccnav" "$db" dump | grep '"type":"tu"' | grep -vc '"status":"ok"' || true)
    warnings=$(grep -c '^nccrs: warning' "$out.$2.log" || true)
    indexed=$(wc -l <"$out.$2.profile")
    hits=$(grep -c 'cache_hits=[1-9]' "$out.$2.profile" || true)
    plain=$(field returned "$3")
    returned=$(field returned "$2")
    done=$(field done "$2")
    extra=$(echo "$(field cpu "$2") + $(field cpu_after "$2") - $(field cpu "$3")" | bc -l)
    printf 'round %d, %s: plain %.1f s; make returned %.1f s (build ratio %.2f), database complete %.1f s (ready ratio %.2f); nccrs processor time %.0f s = %.3f s per unit indexed; %d compiles indexed, %d from the facts cache; %d TUs (%d not ok), %d warnings; database %.1f MB\n' \
        "$1" "$2" "$plain" "$returned" "$(echo "$returned / $plain" | bc -l)" \
        "$done" "$(echo "$done / $plain" | bc -l)" "$extra" "$(echo "$extra / $indexed" | bc -l)" \
        "$indexed" "$hits" "$tus" "$bad" "$warnings" "$(echo "$size / 1000000" | bc -l)"
    echo "$2 $(echo "$returned / $plain" | bc -l) $(echo "$done / $plain" | bc -l) $(echo "$extra / $indexed" | bc -l)" >>"$out.ratios"
}

rm -f "$out.ratios"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(gcc --version | head -1)"
echo "Linux $version UML defconfig, $rounds round(s), modes: $modes; $(date -u +%F)"
for r in $(seq "$rounds"); do
    for mode in $modes; do
        rm -rf "$out.facts"
        build plain scratch
        NCCRS_INDEX=$mode build "$mode" scratch CC="$nccrs"
        report "$r" "$mode" plain
        for step in clean touch; do
            case " $steps " in *" $step "*) ;; *) continue ;; esac
            build "plain-$step" "$step"
            NCCRS_INDEX=$mode build "$mode-$step" "$step" CC="$nccrs"
            report "$r" "$mode-$step" "plain-$step"
        done
    done
done
python3 - "$out.ratios" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for mode in dict.fromkeys(r[0] for r in rows):
    mine = [r for r in rows if r[0] == mode]
    med = lambda i: statistics.median(float(r[i]) for r in mine)
    print(f"{mode}: median over {len(mine)} round(s): build ratio {med(1):.2f}, "
          f"ready ratio {med(2):.2f}, nccrs processor time {med(3):.3f} s per unit")
PY
echo "facts cache: $(du -sh "$out.facts" | cut -f1) in $(find "$out.facts" -type f | wc -l) files"
# Query latency and start-up on the last nccrs database.
python3 bench/query-latency.py "$out/vmlinux.db" 1000 "$nccnav"
NAV_BENCH_TERMINAL_ONLY=1 bench/nav-latency.sh "$out/vmlinux.db" 10 || true
bench/indirect-calls.sh "$out/vmlinux.db" || true
