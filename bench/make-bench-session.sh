#!/usr/bin/env bash
# A 30-minute session shaped like a real screen recorder's output:
# 1920x1080 H.264 at 15 fps around 1.2 Mbit/s without sound, and 180 audio
# segments of 10 s as 16 kHz mono MP3 at 96 kbit/s (written by ffmpeg, so
# they carry the 'Lavc' tag), with a few gaps of 1-5 s between them.
#
# usage: bench/make-bench-session.sh DIR [MINUTES]   (default 30; reused if present)
set -euo pipefail
dir=${1:?usage: make-bench-session.sh DIR [MINUTES]}
minutes=${2:-30}
if [ -f "$dir/session.json" ] && [ "$(cat "$dir/.minutes" 2>/dev/null)" = "$minutes" ]; then
  echo "$dir"; exit 0
fi
rm -rf "$dir"; mkdir -p "$dir/video" "$dir/audio"
seconds=$((minutes * 60))
gst-launch-1.0 -q videotestsrc num-buffers=$((seconds * 15)) pattern=smpte horizontal-speed=2 \
  ! video/x-raw,width=1920,height=1080,framerate=15/1 ! timeoverlay font-desc="Sans 36" ! videoconvert \
  ! x264enc speed-preset=ultrafast bitrate=1200 key-int-max=150 ! video/x-h264,profile=high \
  ! h264parse ! mp4mux ! filesink location="$dir/video/screen.mp4"

segments=$((seconds / 10))
entries=""
offset=0
for ((i = 0; i < segments; i++)); do
  name=$(printf 'seg-%04d.mp3' "$i")
  # Speech-like stand-in: band-limited noise with a syllable-rate envelope.
  ffmpeg -v error -y -f lavfi -i "anoisesrc=color=pink:sample_rate=16000:amplitude=0.3:seed=$i" \
    -af "tremolo=f=4:d=0.7,lowpass=3400" -t 10 -ar 16000 -ac 1 -c:a libmp3lame -b:a 96k "$dir/audio/$name"
  [ -n "$entries" ] && entries+=","
  entries+=$'\n    '"{\"path\": \"audio/$name\", \"offsetMs\": $offset}"
  offset=$((offset + 10000))
  # A gap of 1-5 s after every 20th segment, like pauses in speaking.
  if (( i % 20 == 19 )); then offset=$((offset + 1000 + (i % 5) * 1000)); fi
done
cat > "$dir/session.json" <<JSON
{
  "schema": 1,
  "id": "bench-${minutes}min",
  "name": "Benchmark session (${minutes} min)",
  "video": [{"path": "video/screen.mp4", "offsetMs": 0}],
  "audio": [$entries
  ]
}
JSON
echo "$minutes" > "$dir/.minutes"
echo "$dir"
