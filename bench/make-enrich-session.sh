#!/usr/bin/env bash
# A narrated screen session for the enrichment benchmark: the
# screen-recorder-shaped video of bench/make-screen-video.sh (typing,
# scrolling, slides, still holds) and narration as the recorder would cut
# it: one espeak-ng segment of a few sentences every ~10 s (16 kHz mono
# WAV), with pauses between them.
#
# usage: bench/make-enrich-session.sh DIR [MINUTES]   (default 30; reused if present)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: make-enrich-session.sh DIR [MINUTES]}
minutes=${2:-30}
if [ -f "$dir/session.json" ] && [ "$(cat "$dir/.minutes" 2>/dev/null)" = "$minutes" ]; then
  echo "$dir"; exit 0
fi
rm -rf "$dir"; mkdir -p "$dir/video" "$dir/audio"
video=bench/out/screen-$minutes.mp4
[ -f "$video" ] || bench/make-screen-video.sh "$video" "$minutes" >/dev/null
cp "$video" "$dir/video/screen.mp4"
sentences=(
  "Here we open the queue actor and look at how a job is persisted before anything else happens."
  "The group writer batches every change that arrives during one disk sync into a single write."
  "Now I switch to the slides to explain the architecture of the media pipeline."
  "This part of the document describes the session manifest and the offsets of each file."
  "Let me scroll down to the section about recovery after a crash of the node."
  "The merge stage copies the video and encodes the audio timeline at sixteen kilohertz."
  "We should measure this against ffmpeg on the same machine before we change the presets."
  "Next I type the new test case that checks the chapter boundaries against the slide changes."
)
entries=""
offset=2000
i=0
while ((offset < minutes * 60000 - 12000)); do
  name=$(printf 'seg-%04d.wav' "$i")
  text="${sentences[$((i % 8))]} ${sentences[$(((i * 3 + 1) % 8))]}"
  espeak-ng -s 165 -w "$dir/audio/tmp.wav" "$text"
  sox "$dir/audio/tmp.wav" -r 16000 -c 1 "$dir/audio/$name"
  len=$(soxi -D "$dir/audio/$name")
  [ -n "$entries" ] && entries+=","
  entries+=$'\n    '"{\"path\": \"audio/$name\", \"offsetMs\": $offset}"
  offset=$((offset + ${len%.*} * 1000 + 1000 + (i % 4) * 1500))
  i=$((i + 1))
done
rm -f "$dir/audio/tmp.wav"
cat > "$dir/session.json" <<JSON
{
  "schema": 1,
  "id": "enrich-bench-${minutes}min",
  "name": "Narrated screen session (${minutes} min)",
  "video": [{"path": "video/screen.mp4", "offsetMs": 0}],
  "audio": [$entries
  ]
}
JSON
echo "$minutes" > "$dir/.minutes"
echo "$dir"
