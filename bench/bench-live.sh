#!/usr/bin/env bash
# Live sessions (issue #22): a 30-minute recording replayed at 10x real time
# into a live job (tests/media/live-recorder.py: a 10 s speech segment every
# 10 s, session.json renamed over after each; with --video also a growing
# fragmented MP4), then the same files as a batch job, no compression. Times
# are from the recorder's endedAt (live) or the submit (batch). Writes the
# table into docs/performance.md.
#
# usage: [NO_DOC=1] [TABLE_ONLY=1] bench/bench-live.sh [MINUTES] [SPEED]   (after scripts/build.sh)
#   TABLE_ONLY=1: the table (and the doc block) from the last run's bench/out/live-*.json
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-30}
speed=${2:-10}
mkdir -p bench/out
if [ -z "${TABLE_ONLY:-}" ]; then
  build/bench/bench_live bench/out/live-audio "$minutes" "$speed" > bench/out/live-audio.json
  build/bench/bench_live bench/out/live-video "$minutes" "$speed" --video > bench/out/live-video.json
fi
table=$(python3 - "$minutes" "$speed" <<'PY'
import json, sys
minutes, speed = sys.argv[1:3]
rows = []
for name, what in (("audio", "speech segments only"), ("video", "speech + growing fragmented MP4 screen video")):
    r = json.load(open(f"bench/out/live-{name}.json"))
    f = lambda v: "-" if v is None else f"{v:.1f} s"
    live, batch = r["live"], r["batch"]
    rows.append(f"| {what}: live (from endedAt) | {f(live['playable'])} | {f(live['transcript'])} | {f(live['done'])} | "
                f"{r['cpuShare'] * 100:.0f} % of {r['cores']} cores, recorder at most {r['recorderWorstLateMs']} ms late | "
                f"{r['piecesReused']} transcript pieces and {r['audioPiecesReused']} of {r['audioPieces']} AAC pieces reused, "
                f"same words: {'yes' if r['sameWords'] else 'NO'}, same timeline.aac bytes: {'yes' if r['sameTimeline'] else 'NO'}"
                + (f", {r['chapters']} chapters read live: {'yes' if r['chaptersReused'] else 'NO'}, same chapters: {'yes' if r['sameChapters'] else 'NO'}" if r['video'] else "") + " |")
    rows.append(f"| {what}: batch (from submit) | {f(batch['playable'])} | {f(batch['transcript'])} | {f(batch['done'])} | | |")
print(f"| {minutes}-min session replayed at {speed}x | end -> playable | end -> transcript | end -> completed (no compress) | live work while recording | |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
PY
)
echo "$table"
[ -n "${NO_DOC:-}" ] && exit 0
bench/write-doc-block.py live "Live sessions (issue #22)" "$table
"
