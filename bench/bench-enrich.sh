#!/usr/bin/env bash
# Enrichment cost per stage on a narrated 30-minute screen session
# (bench/make-enrich-session.sh): wall time and peak memory of each stage
# run alone (build/bench/bench_enrich, as the worker runs it), after the
# media stages. The cache is cleared first, so every stage does its work.
# Writes the table into docs/performance.md.
#
# usage: [NO_DOC=1] bench/bench-enrich.sh [MINUTES]   (default 30; after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-30}
session=$(bench/make-enrich-session.sh bench/out/enrich-session-$minutes "$minutes")
build/postroll process "$session" --no-enrich --no-compress --data-dir bench/out/enrich-db >/dev/null
rm -rf "$session/postroll/enrichment"
rows=""
# chapters first: their screen words bias the transcript, as in a job
for stage in enrich.chapters enrich.audio_review enrich.summary enrich.canvas; do
  log=bench/out/enrich-$stage.log
  /usr/bin/time -f "%e %M" -o "$log.time" build/bench/bench_enrich "$session" "$stage" > "$log"
  read -r wall rss < "$log.time"
  facts=$(python3 -c "import json,sys; r=json.load(open('$log'))['result']; print(', '.join(f'{k} {r[k]}' for k in ('wordCount','speechMs','count','tiles','engine') if k in r))")
  rows+="| $stage | $wall s | $((rss / 1024)) MB | $facts |"$'\n'
done
audio_min=$(python3 -c "import json; print(round(json.load(open('$session/postroll/enrichment/transcript.json'))['durationMs']/60000, 1))")
table="| stage ($minutes-min session, $audio_min min of timeline audio) | wall | peak RSS | result |
|---|---|---|---|
$rows"
echo "$table"
[ -n "${NO_DOC:-}" ] && exit 0
bench/write-doc-block.py enrich "Enrichment" "$table"
