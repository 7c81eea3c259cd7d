#!/usr/bin/env bash
# Peak disk use while postroll processes the 30-minute screen-recorder-shaped
# session (bench/make-bench-session.sh), as a multiple of the session's size
# (the plan's ceiling: 1.4x). The session folder's bytes (du) are sampled
# every 100 ms during `postroll process`; the job database is counted too.
# Runs three times: media.playable = "fast" (the default) with keep and with
# delete, and "compressed" with keep, and writes the table into
# docs/performance.md between the disk markers.
#
# usage: bench/bench-disk.sh [MINUTES] [ENRICH=0|1]   (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-30}
enrich=${2:-0}
src=bench/out/session-$minutes
bench/make-bench-session.sh "$src" "$minutes" >/dev/null
work=$(mktemp -d -p bench/out)
trap 'rm -rf "$work"' EXIT
flags=(--no-enrich)
[ "$enrich" = 1 ] && flags=()

rows=""
# du may see files vanish while it walks (partials renamed) and the database
# may not exist yet: count what it printed, never fail the sample.
bytes() { { du -sb "$1" 2>/dev/null || true; } | awk '{s+=$1} END {print s+0}'; }
printf '[media]\nplayable = "compressed"\n[notify]\ndesktop = false\n' > "$work/compressed.toml"
printf '[notify]\ndesktop = false\n' > "$work/fast.toml"
for run in fast:keep fast:delete compressed:keep; do
  mode=${run%%:*} policy=${run##*:}
  rm -rf "$work/s" "$work/db"
  cp -r "$src" "$work/s"
  rm -rf "$work/s/postroll"
  size=$(du -sb "$work/s" | cut -f1)
  ./build/postroll process "$work/s" --config "$work/$mode.toml" --data-dir "$work/db" --retention "$policy" "${flags[@]}" > "$work/out.log" 2>&1 &
  pid=$!
  peak=0
  while kill -0 "$pid" 2>/dev/null; do
    now=$(( $(bytes "$work/s") + $(bytes "$work/db") ))
    ((now > peak)) && peak=$now
    sleep 0.1
  done
  wait "$pid"
  final=$(( $(du -sb "$work/s" | cut -f1) + $(du -sb "$work/db" | cut -f1) ))
  rows+="| $minutes min | $mode | $policy | $(awk -v s="$size" 'BEGIN{printf "%.0f", s/1048576}') MB | $(awk -v p="$peak" 'BEGIN{printf "%.0f", p/1048576}') MB | $(awk -v p="$peak" -v s="$size" 'BEGIN{printf "%.2fx", p/s}') | $(awk -v p="$final" 'BEGIN{printf "%.0f", p/1048576}') MB |"$'\n'
done
table="| session | media.playable | retention | session size | peak during processing | peak / size | after |
|---|---|---|---|---|---|---|
$rows"
echo "$table"
python3 bench/write-doc-block.py disk "Disk use during processing" "Peak disk use during \`postroll process$( [ "$enrich" = 1 ] || echo ' --no-enrich')\` (session folder + job database, sampled every 100 ms):

$table
"
