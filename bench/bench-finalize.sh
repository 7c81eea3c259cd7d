#!/usr/bin/env bash
# Times `postroll process` against the ffmpeg command a user would otherwise
# write for the same result (segments concatenated with silence for the gaps,
# video stream-copied, AAC, +faststart), in the same run, on the 30-minute
# screen-recorder-shaped session. Prints a table and writes it into
# docs/performance.md between the finalize markers.
#
# usage: bench/bench-finalize.sh [RUNS] [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
minutes=${2:-30}
session=bench/out/session-$minutes
bench/make-bench-session.sh "$session" "$minutes" >/dev/null
bin=./build/postroll
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The ffmpeg command: one input per segment, silence (anullsrc) for every gap,
# concat, AAC at the same rate/bitrate postroll picks (16 kHz mono, 32 kbit/s).
args=(-v error -y -i "$session/video/screen.mp4")
filter=""
n=0
prev_end=0
inputs=1
while IFS=$'\t' read -r path offset; do
  if ((offset > prev_end)); then
    gap=$(awk -v g=$((offset - prev_end)) 'BEGIN { printf "%.3f", g / 1000 }')
    args+=(-f lavfi -t "$gap" -i "anullsrc=r=16000:cl=mono")
    filter+="[$inputs:a]"; inputs=$((inputs + 1)); n=$((n + 1))
  fi
  args+=(-i "$session/$path")
  filter+="[$inputs:a]"; inputs=$((inputs + 1)); n=$((n + 1))
  dur_ms=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$session/$path" | awk '{ printf "%d", $1 * 1000 }')
  prev_end=$((offset + dur_ms))
done < <(grep -o '"path": "audio/[^"]*", "offsetMs": [0-9]*' "$session/session.json" |
         sed -E 's/"path": "([^"]*)", "offsetMs": ([0-9]*)/\1\t\2/')
filter+="concat=n=$n:v=0:a=1[a]"
ffmpeg_cmd=(ffmpeg "${args[@]}" -filter_complex "$filter" -map 0:v -map "[a]" -c:v copy
            -c:a aac -ar 16000 -ac 1 -b:a 32k -movflags +faststart "$work/ffmpeg.mp4")

measure() {  # measure NAME CMD... -> "wall_s rss_mb"
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" >/dev/null 2>"$work/$name.err" ||
    { cat "$work/$name.err" >&2; exit 1; }
  awk '{ printf "%.2f %.0f\n", $1, $2 / 1024 }' "$work/$name.time"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: > "$work/p.txt"; : > "$work/f.txt"
for ((r = 1; r <= runs; r++)); do
  rm -rf "$session/postroll" "$work/db"
  # The same work as the ffmpeg command: the playable file only (compress
  # and enrichment are later stages, measured in bench-compress/bench-enrich).
  measure postroll "$bin" process "$session" --data-dir "$work/db" --no-compress --no-enrich >> "$work/p.txt"
  measure ffmpeg "${ffmpeg_cmd[@]}" >> "$work/f.txt"
done
p_wall=$(cut -d' ' -f1 "$work/p.txt" | median); p_rss=$(cut -d' ' -f2 "$work/p.txt" | sort -n | tail -1)
f_wall=$(cut -d' ' -f1 "$work/f.txt" | median); f_rss=$(cut -d' ' -f2 "$work/f.txt" | sort -n | tail -1)
p_size=$(stat -c %s "$session/postroll/session.mp4"); f_size=$(stat -c %s "$work/ffmpeg.mp4")
ratio=$(awk -v p="$p_wall" -v f="$f_wall" 'BEGIN { printf "%.2f", f / p }')
stages=$("$bin" process "$session" --data-dir "$work/db" --no-compress --no-enrich --json 2>/dev/null |
         grep -E '"(name|startedAt|finishedAt)"' | tr -d ' ,"' |
         awk -F: '/^finishedAt/ { f = $2 } /^name/ { n = $2 } /^startedAt/ { printf "%s %.2f s; ", n, (f - $2) / 1000 }')

table=$(cat <<TABLE
| ${minutes}-min session ($(date +%Y-%m-%d), $(nproc) cores, median of $runs) | wall | peak RSS | output |
|---|---|---|---|
| \`postroll process\` (timeline + merge, faststart) | ${p_wall} s | ${p_rss} MB | $((p_size / 1000000)) MB |
| ffmpeg concat + anullsrc gaps, \`-c:v copy\`, AAC 16 kHz mono 32k, \`+faststart\` | ${f_wall} s | ${f_rss} MB | $((f_size / 1000000)) MB |
| **speed-up (ffmpeg wall / postroll wall)** | **${ratio}x** | | |
TABLE
)
echo "$table"
echo "postroll stages (last run, wall per stage): $stages"

doc=docs/performance.md
if [ -f "$doc" ] && grep -q '<!-- finalize:begin -->' "$doc"; then
  awk -v t="$table" '
    /<!-- finalize:begin -->/ { print; print t; skip = 1; next }
    /<!-- finalize:end -->/ { skip = 0 }
    !skip' "$doc" > "$doc.tmp" && mv "$doc.tmp" "$doc"
fi
