#!/usr/bin/env bash
# A screen-recorder-shaped video: 1920x1080 H.264 at 15 fps, ~1.2 Mbit/s,
# mostly still. Scenes repeat in a seeded random order: typing code line by
# line with a blinking cursor, scrolling a document, switching to a slide
# with a coloured background, and holding a screen for seconds while the
# presenter talks. Frames are raw images rendered once (text via textoverlay)
# and linked per frame, so a 30-minute video costs only its encode.
#
# usage: bench/make-screen-video.sh OUT.mp4 MINUTES [SEED]
set -euo pipefail
out=${1:?usage: make-screen-video.sh OUT.mp4 MINUTES [SEED]}
minutes=${2:?usage: make-screen-video.sh OUT.mp4 MINUTES [SEED]}
RANDOM=${3:-2026}
src_dir=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/img" "$work/frames"
W=1920 H=1080 FPS=15
total=$((minutes * 60 * FPS))
frame=0

# Text sources: this repository's own code and docs (plain text for pango).
texts=()
for f in actors/queue/dispatch.cpp pipelines/merge.cpp docs/architecture.md storage/job_store.cpp README.md apps/main.cpp; do
  texts+=("$src_dir/$f")
done

markup() {  # FILE FIRST COUNT -> pango markup with &#10; line breaks
  sed -n "$2,$(($2 + $3 - 1))p" "$1" | tr -d '"\\!' | cut -c1-110 |
    sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g' | awk '{printf "%s&#10;", $0}'
}

# render NAME BG_COLOR TEXT_COLOR FONT_SIZE DELTAY TEXT
render() {
  local file="$work/img/$1.yuv"
  [ -f "$file" ] && return
  gst-launch-1.0 -q videotestsrc pattern=solid-color foreground-color="$2" num-buffers=1 \
    ! video/x-raw,width=$W,height=$H,format=I420 \
    ! textoverlay text="$6" font-desc="DejaVu Sans Mono $4" auto-resize=false halignment=left valignment=top \
      line-alignment=left xpad=60 ypad=50 deltay="$5" color="$3" draw-shadow=false shaded-background=false \
    ! video/x-raw,format=I420 ! filesink location="$file"
}

show() {  # NAME FRAMES
  local n=$2 i
  for ((i = 0; i < n && frame < total; i++)); do
    ln -s "../img/$1.yuv" "$work/frames/$(printf '%07d' "$frame").yuv"
    frame=$((frame + 1))
  done
}

scene=0
while ((frame < total)); do
  t=${texts[$((RANDOM % ${#texts[@]}))]}
  start=$((1 + RANDOM % 40))
  case $((RANDOM % 4)) in
    0)  # typing: one more line every 0.5-1.3 s, then a hold with a blinking cursor
      for ((k = 1; k <= 24; k += 2)); do
        render "type-$scene-$k" 0xfff8f8f8 0xff202020 15 0 "$(markup "$t" "$start" "$k")"
        show "type-$scene-$k" $((8 + RANDOM % 12))
      done
      render "type-$scene-c" 0xfff8f8f8 0xff202020 15 0 "$(markup "$t" "$start" 24)█"
      for ((b = 0; b < 4 + RANDOM % 8; b++)); do
        show "type-$scene-23" 8; show "type-$scene-c" 8
      done ;;
    1)  # scrolling a document, then reading it
      lines=$(markup "$t" "$start" 60)
      for ((d = 0; d >= -600; d -= 40)); do
        render "scroll-$scene-$d" 0xffffffff 0xff101010 14 "$d" "$lines"
        show "scroll-$scene-$d" 1
      done
      show "scroll-$scene--600" $((45 + RANDOM % 150)) ;;
    2)  # switching to a slide
      colors=(0xff1e3a5f 0xff5f1e3a 0xff1e5f3a 0xff3a3a3a)
      render "slide-$scene" "${colors[$((RANDOM % 4))]}" 0xfff0f0f0 40 200 \
        "  Session $scene&#10;&#10;  $(basename "$t")&#10;  $(markup "$t" "$start" 3)"
      show "slide-$scene" $((150 + RANDOM % 450)) ;;
    3)  # reading a screen while talking
      render "read-$scene" 0xffeeeeee 0xff202020 15 0 "$(markup "$t" "$start" 40)"
      show "read-$scene" $((75 + RANDOM % 300)) ;;
  esac
  scene=$((scene + 1))
done

mkdir -p "$(dirname "$out")"
gst-launch-1.0 -q multifilesrc location="$work/frames/%07d.yuv" \
    caps="video/x-raw,format=I420,width=$W,height=$H,framerate=$FPS/1" \
  ! rawvideoparse use-sink-caps=true ! videoconvert \
  ! x264enc speed-preset=ultrafast bitrate=1200 key-int-max=150 ! video/x-h264,profile=high \
  ! h264parse ! mp4mux ! filesink location="$out"
echo "$out"
