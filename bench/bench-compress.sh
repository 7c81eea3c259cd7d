#!/usr/bin/env bash
# Compression against ffmpeg on screen-recorder-shaped videos (5 and 30
# minutes, bench/make-screen-video.sh), in the same run: for each preset,
# postroll's media.compress pipeline (encode + playability check, as the
# stage runs it) and `ffmpeg -c:v libx264 -preset veryfast -crf 23`.
# Reports size vs the original video, SSIM against the original (ffmpeg's
# ssim filter; postroll's variable-rate output is first put back on the
# source's 15 fps grid with the fps filter, which is what a player shows),
# wall time and peak memory. Writes the table into docs/performance.md.
#
# usage: [PRESETS="low medium high"] bench/bench-compress.sh [MINUTES...]
#        (default: 5 30; after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
lengths=("$@")
[ ${#lengths[@]} -eq 0 ] && lengths=(5 30)

measure() {  # LOGFILE COMMAND... -> "wall_s rss_mb" (GNU time)
  local log=$1; shift
  /usr/bin/time -f "%e %M" -o "$log.time" "$@" > "$log" 2>&1
  awk '{printf "%.1f %.0f\n", $1, $2 / 1024}' "$log.time"
}
ssim() {  # COMPRESSED SOURCE
  ffmpeg -v info -i "$1" -i "$2" -lavfi "[0:v]fps=15[a];[a][1:v]ssim" -f null - 2>&1 |
    grep -o 'All:[0-9.]*' | cut -d: -f2
}

rows=""
for m in "${lengths[@]}"; do
  src="$out/screen-$m.mp4"
  [ -f "$src" ] || bench/make-screen-video.sh "$src" "$m" >/dev/null
  src_bytes=$(stat -c %s "$src")
  read -r fw fr < <(measure "$out/ff-$m.log" ffmpeg -v error -y -i "$src" -c:v libx264 -preset veryfast -crf 23 "$out/ff-$m.mp4")
  fb=$(stat -c %s "$out/ff-$m.mp4"); fs=$(ssim "$out/ff-$m.mp4" "$src")
  rows+="| $m min | ffmpeg libx264 veryfast crf 23 | $(awk -v a="$fb" -v b="$src_bytes" 'BEGIN{printf "%.3f", a/b}') | $fs | $fw s | $fr MB | 1.00x |"$'\n'
  for p in ${PRESETS:-low medium high}; do
    read -r pw pr < <(measure "$out/pr-$m-$p.log" build/bench/bench_compress "$src" "$out/pr-$m-$p.mp4" "$p")
    pb=$(stat -c %s "$out/pr-$m-$p.mp4"); ps=$(ssim "$out/pr-$m-$p.mp4" "$src")
    frames=$(grep -o '"framesOut":[0-9]*' "$out/pr-$m-$p.log" | cut -d: -f2)
    rows+="| $m min | postroll $p ($frames frames encoded) | $(awk -v a="$pb" -v b="$src_bytes" 'BEGIN{printf "%.3f", a/b}') | $ps | $pw s | $pr MB | $(awk -v f="$fw" -v p="$pw" 'BEGIN{printf "%.2fx", f/p}') |"$'\n'
  done
done
table="| video | method | size / original | SSIM | wall | peak RSS | speed vs ffmpeg |
|---|---|---|---|---|---|---|
$rows"
echo "$table"
[ -n "${NO_DOC:-}" ] && exit 0
bench/write-doc-block.py compress "Compression" "$table"
