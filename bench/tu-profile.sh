#!/bin/sh
# Where the indexer's time goes for chosen translation units of an indexed build:
# re-runs each unit's recorded command through nccrs into a scratch database, with
# NCCRS_PROFILE, and prints parse / extract / write milliseconds.
#
#   bench/tu-profile.sh BUILD_DIR SOURCE_SUFFIX...    e.g. ~/.cache/nccrs/um-test fs/ext4/file.c
set -eu
build=$1; shift
here=$(cd "$(dirname "$0")/.." && pwd)
nccrs=${NCCRS:-$here/target/release/nccrs}
nccnav=${NCCNAV:-$here/target/release/nccnav}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$nccnav" "$build/vmlinux.db" dump | grep '^{"type":"tu"' > "$scratch/tus.jsonl"
for suffix in "$@"; do
  python3 - "$scratch/tus.jsonl" "$suffix" "$scratch/cmd" <<'PY'
import json, sys, shlex
tus, suffix, out = sys.argv[1:]
for line in open(tus):
    t = json.loads(line)
    cmd = t["command"]
    if cmd[-1].endswith(suffix):
        # Everything but the real compiler; no object or dependency file written.
        args = [a for a in cmd[1:] if not a.startswith(("-Wp,-MMD", "-Wp,-MD"))]
        i = args.index("-o"); args[i + 1] = "/tmp/nccrs-tu-profile.o"
        open(out, "w").write(t["directory"] + "\n" + shlex.join(args) + "\n")
        break
else:
    sys.exit(f"no unit ends with {suffix}")
PY
  dir=$(sed -n 1p "$scratch/cmd"); args=$(sed -n 2p "$scratch/cmd")
  for i in 1 2 3; do
    (cd "$dir" && eval "NCCRS_DB=$scratch/p.db NCCRS_PROFILE=$scratch/profile abs_srctree= abs_objtree= \"$nccrs\" $args" >/dev/null 2>&1) || true
  done
  echo "$suffix: $(cut -f2- "$scratch/profile" | sort | sed -n 2p)"
  rm -f "$scratch/profile"
done
