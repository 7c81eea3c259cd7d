#!/usr/bin/env bash
# A session whose audio segments hold 40 ms 1 kHz beeps at known session
# times, on both sides of gaps and at segment boundaries, in every input
# format postroll must place exactly: WAV 16 kHz mono, WAV 48 kHz stereo,
# MP3 written by ffmpeg (Lavc tag), MP3 written by GStreamer (no tag), Opus.
# One segment is listed out of order. Writes DIR/session.json and
# DIR/expected-beeps.txt (one session time in ms per line).
#
# usage: make-beep-session.sh DIR [with-video]
set -euo pipefail
dir=${1:?usage: make-beep-session.sh DIR [with-video]}
mkdir -p "$dir/audio"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# tone RATE CHANNELS SECONDS OUT BEEP_SECONDS...
tone() {
  local rate=$1 ch=$2 len=$3 out=$4; shift 4
  local parts=() i=0
  for at in "$@"; do
    sox -n -r "$rate" -c "$ch" -b 16 "$tmp/b$i.wav" synth 0.04 sine 1000 vol 0.5 pad "$at" 0
    parts+=("$tmp/b$i.wav"); i=$((i + 1))
  done
  sox -n -r "$rate" -c "$ch" -b 16 "$tmp/base.wav" trim 0 "$len"
  sox -m "$tmp/base.wav" "${parts[@]}" -b 16 "$out" trim 0 "$len" 2>/dev/null || \
    sox -m -v 1 "$tmp/base.wav" "${parts[@]}" -b 16 "$out" trim 0 "$len"
}

: > "$dir/expected-beeps.txt"
entries=()
# add NAME FORMAT OFFSET_MS LEN_S BEEPS...
add() {
  local name=$1 fmt=$2 off=$3 len=$4; shift 4
  case $fmt in
    wav16) tone 16000 1 "$len" "$dir/audio/$name.wav" "$@"; file=$name.wav ;;
    wav48) tone 48000 2 "$len" "$dir/audio/$name.wav" "$@"; file=$name.wav ;;
    mp3-ffmpeg) tone 16000 1 "$len" "$tmp/src.wav" "$@"
         ffmpeg -v error -y -i "$tmp/src.wav" -c:a libmp3lame -b:a 96k "$dir/audio/$name.mp3"; file=$name.mp3 ;;
    mp3-gst) tone 16000 1 "$len" "$tmp/src.wav" "$@"
         gst-launch-1.0 -q filesrc location="$tmp/src.wav" ! wavparse ! audioconvert \
           ! lamemp3enc bitrate=96 target=bitrate cbr=true ! filesink location="$dir/audio/$name.mp3"; file=$name.mp3 ;;
    opus) tone 48000 1 "$len" "$tmp/src.wav" "$@"
         ffmpeg -v error -y -i "$tmp/src.wav" -c:a libopus -b:a 48k "$dir/audio/$name.opus"; file=$name.opus ;;
  esac
  entries+=("{\"path\": \"audio/$file\", \"offsetMs\": $off}")
  for at in "$@"; do
    awk -v o="$off" -v a="$at" 'BEGIN { printf "%d\n", o + a * 1000 }' >> "$dir/expected-beeps.txt"
  done
}

# Out of order on purpose: the last segment is listed first.
add seg-5 wav16       15000 2.0 0.0 1.2
add seg-0 wav16         500 3.0 0.25 2.9
add seg-1 mp3-ffmpeg   3500 2.5 0.0 1.5
add seg-2 opus         7000 3.0 0.3 2.0
add seg-3 wav48       10000 2.0 0.25 1.0
add seg-4 mp3-gst     12000 2.0 0.7 1.9
sort -n -o "$dir/expected-beeps.txt" "$dir/expected-beeps.txt"

video_json=""
if [ "${2:-}" = with-video ]; then
  mkdir -p "$dir/video"
  gst-launch-1.0 -q videotestsrc num-buffers=300 pattern=white ! video/x-raw,width=320,height=240,framerate=15/1 \
    ! timeoverlay ! videoconvert ! x264enc speed-preset=ultrafast ! mp4mux ! filesink location="$dir/video/screen.mp4"
  video_json='"video": [{"path": "video/screen.mp4", "offsetMs": 0}],'
fi
{
  echo '{"schema": 1, "id": "beeps", "name": "beep sync check",'
  echo "$video_json"
  echo '"audio": ['
  (IFS=,; echo "${entries[*]}")
  echo ']}'
} > "$dir/session.json"
