#!/usr/bin/env bash
# The interactive navigator's speed on a database:
#  - in-process (navigator/examples/tui-bench.rs, on ratatui's test terminal): start-up
#    to the first frame, each search keystroke, opening a page, each expansion of a
#    tree row, each with the frame drawn after it;
#  - in a real terminal (tmux): from starting nccnav to its first screen, and to the
#    first screen of a symbol's page.
#
#   bench/nav-latency.sh DB [SAMPLES]      (default 300 typed names)
#
# NAV_BENCH_TERMINAL_ONLY=1 leaves out the in-process part.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:?usage: bench/nav-latency.sh DB [SAMPLES]}
samples=${2:-300}
cargo build --release --quiet -p nccnav --example tui-bench
cargo build --release --quiet -p nccnav
[ "${NAV_BENCH_TERMINAL_ONLY:-}" ] || target/release/examples/tui-bench "$db" "$samples"

command -v tmux >/dev/null || { echo "tmux is needed for the terminal start-up figure" >&2; exit 1; }
socket=nccrs-bench-$$
run=0
trap 'for i in $(seq 0 $run); do tmux -L $socket-$i kill-server 2>/dev/null || true; done' EXIT
first_screen() { # $1: what to wait for; rest: nccnav arguments
    local want=$1; shift
    local t0 t1 s=$socket-$run
    run=$((run + 1))
    t0=$(date +%s%N)
    tmux -L "$s" -f /dev/null new-session -d -x 100 -y 30 "$PWD/target/release/nccnav $*; sleep 60"
    until [[ $(tmux -L "$s" capture-pane -p 2>/dev/null) == *"$want"* ]]; do
        (( $(date +%s%N) - t0 < 10000000000 )) || { echo "no $want on the screen after 10 s" >&2; exit 1; }
    done
    t1=$(date +%s%N)
    tmux -L "$s" kill-server
    echo $(((t1 - t0) / 1000000))
}
for what in search page; do
    times=()
    for _ in $(seq 10); do
        if [ $what = search ]; then
            first_screen 'Search:' "$db" >/tmp/nccrs-bench-$$.ms
        else
            first_screen 'Callers (' "$db" vfs_read >/tmp/nccrs-bench-$$.ms
        fi
        times+=("$(cat /tmp/nccrs-bench-$$.ms)")
    done
    rm -f /tmp/nccrs-bench-$$.ms
    sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
    echo "terminal start-up to the first $what screen (ms, 10 runs, tmux included): $sorted"
done
