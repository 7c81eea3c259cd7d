#!/usr/bin/env bash
# Recorder-shaped sessions (tests/recorder_matrix_test: ffmpeg, GStreamer and
# Chromium-made media) finalized with the default settings: postroll's whole
# job against ffmpeg's libx264 veryfast crf 23 on the same video, the video's
# size against ffmpeg's, and the worst change of the A/V offset at any
# flash/beep mark. Writes the table into docs/performance.md.
#
# usage: [NO_DOC=1] bench/bench-recorders.sh   (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
report=build/test-artifacts/recorder-matrix.jsonl
rm -f "$report"
build/tests/recorder_matrix_test --log_level=nothing
table=$(python3 - "$report" <<'PY'
import json, sys
print("| recording | postroll (whole job, enrichment on) | ffmpeg veryfast crf 23 (video only) | video size / ffmpeg's | worst A/V offset change | how |")
print("|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    r = json.loads(line)
    how = "remuxed, then compressed" if r["compressed"] else ("encoded once by the merge: " + r["encodeReason"] if r["encodedByMerge"] else "kept as merged")
    print(f"| {r['case']} | {r['postrollSeconds']:.1f} s | {r['ffmpegVeryfastSeconds']:.1f} s | {r['sizeRatio']:.2f} | {r['worstSyncChangeMs']:.2f} ms | {how} |")
PY
)
echo "$table"
[ -n "${NO_DOC:-}" ] && exit 0
bench/write-doc-block.py recorders "Recorder-shaped sessions" "$table
"
