#!/usr/bin/env bash
# Generates a demo recording session the way a screen recorder leaves one:
# a silent H.264 screen video, short narration segments in mixed formats
# (WAV 16 kHz mono, WAV 48 kHz stereo, MP3, Opus) with gaps between them,
# a screenshot, and session.json. Media is made at run time from GStreamer
# test sources and espeak-ng; nothing is downloaded.
#
# usage: scripts/make-demo-session.sh DIR [SECONDS]
set -euo pipefail
dir=${1:?usage: make-demo-session.sh DIR [SECONDS]}
seconds=${2:-40}
mkdir -p "$dir/video" "$dir/audio" "$dir/shots"
dir=$(cd "$dir" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fps=15
frames=$((seconds * fps))
# Screen-like video, 1280x720 at 15 fps: one page per topic, each 10 s long
# with its own background and title (enrichment finds them as chapters; the
# last is dark, like a terminal), and a running clock.
titles=("Release schedule" "Build pipeline" "Dashboard" "Open questions")
bodies=("Dates for the next three releases" "Twelve minutes today, five is the goal"
        "A progress bar on every job" "Who owns the storage migration?")
backgrounds=(0xfff8f8f8 0xffe6eefa 0xfffdf3e1 0xff24303c)
inks=(0xff202020 0xff1a2a4a 0xff3a2a10 0xfff0f0f0)
pages=()
left=$frames
page=0
while ((left > 0)); do
  n=$((left < 10 * fps ? left : 10 * fps))
  k=$((page % ${#titles[@]}))
  pages+=(videotestsrc num-buffers=$n pattern=solid-color "foreground-color=${backgrounds[$k]}"
          ! "video/x-raw,width=1280,height=720,framerate=$fps/1"
          ! textoverlay auto-resize=false "text=${titles[$k]}" valignment=top halignment=left
            "font-desc=Sans Bold 36" "color=${inks[$k]}"
          ! textoverlay auto-resize=false "text=${bodies[$k]}" valignment=center halignment=left
            "font-desc=Sans 24" "color=${inks[$k]}" ! c.)
  left=$((left - n))
  page=$((page + 1))
done
gst-launch-1.0 -q concat name=c \
  ! timeoverlay auto-resize=false time-mode=running-time valignment=bottom halignment=right font-desc="Sans 20" \
  ! videoconvert ! x264enc speed-preset=ultrafast bitrate=800 key-int-max=150 \
  ! video/x-h264,profile=high ! h264parse ! mp4mux ! filesink location="$dir/video/screen.mp4" \
  "${pages[@]}"
sentences=(
  "Welcome to the planning session. Today we look at the release schedule."
  "First, the build pipeline. It takes twelve minutes and we want it under five."
  "Second, the dashboard. Users asked for a progress bar on every job."
  "Finally, the open questions. Who owns the storage migration?"
  "That is all for today. Thank you."
)
formats=(wav16 mp3 opus wav48 wav16)
audio_json=""
offset=1000
i=0
for s in "${sentences[@]}"; do
  ((offset < seconds * 1000)) || break
  # A human-like narrator when festival's HTS voice is installed (the
  # transcript then reads like the script), else espeak-ng.
  if command -v text2wave >/dev/null && [ -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts ]; then
    echo "$s" | text2wave -eval '(voice_cmu_us_slt_arctic_hts)' -o "$tmp/s$i.raw.wav"
    gst-launch-1.0 -q filesrc location="$tmp/s$i.raw.wav" ! wavparse ! audioconvert ! audioresample \
      ! audio/x-raw,format=S16LE,rate=22050,channels=1 ! wavenc ! filesink location="$tmp/s$i.wav"
  else
    espeak-ng -s 165 -w "$tmp/s$i.wav" "$s"
  fi
  name=$(printf 'seg-%04d' "$i")
  case ${formats[$i]} in
    wav16) gst-launch-1.0 -q filesrc location="$tmp/s$i.wav" ! wavparse ! audioconvert ! audioresample \
             ! audio/x-raw,rate=16000,channels=1 ! wavenc ! filesink location="$dir/audio/$name.wav"; f=$name.wav ;;
    wav48) gst-launch-1.0 -q filesrc location="$tmp/s$i.wav" ! wavparse ! audioconvert ! audioresample \
             ! audio/x-raw,rate=48000,channels=2 ! wavenc ! filesink location="$dir/audio/$name.wav"; f=$name.wav ;;
    mp3)   gst-launch-1.0 -q filesrc location="$tmp/s$i.wav" ! wavparse ! audioconvert ! audioresample \
             ! audio/x-raw,rate=16000 ! lamemp3enc bitrate=96 target=bitrate cbr=true ! filesink location="$dir/audio/$name.mp3"; f=$name.mp3 ;;
    opus)  gst-launch-1.0 -q filesrc location="$tmp/s$i.wav" ! wavparse ! audioconvert ! audioresample \
             ! opusenc ! oggmux ! filesink location="$dir/audio/$name.opus"; f=$name.opus ;;
  esac
  [ -n "$audio_json" ] && audio_json+=","
  audio_json+=$'\n    '"{\"path\": \"audio/$f\", \"offsetMs\": $offset}"
  # Segment length in ms from the WAV size (22050 Hz, 16-bit mono from espeak-ng), then a gap.
  len=$(( ( $(stat -c %s "$tmp/s$i.wav") - 44 ) * 1000 / 44100 ))
  offset=$((offset + len + 1500 + (i % 3) * 1000))
  i=$((i + 1))
done

gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=white ! video/x-raw,width=1280,height=720 \
  ! textoverlay text="postroll demo" font-desc="Sans 40" ! videoconvert ! pngenc ! filesink location="$dir/shots/0001.png"

cat > "$dir/session.json" <<JSON
{
  "schema": 1,
  "id": "demo-$(date +%Y%m%d-%H%M%S)",
  "name": "Planning session (demo)",
  "startedAt": $(date +%s000),
  "video": [{"path": "video/screen.mp4", "offsetMs": 0}],
  "audio": [$audio_json
  ],
  "screenshots": [{"path": "shots/0001.png", "offsetMs": 1500}]
}
JSON
echo "$dir"
