#!/usr/bin/env bash
# A session shaped like what a real recorder writes, with white flashes on
# a screen-like picture (a dark page and a clock) and 1 kHz beeps at the
# same session times, so sync can be measured on the final file with an
# independent decoder (ffmpeg). Marks sit on frame boundaries.
#
#   bframes-2-15   ffmpeg libx264 defaults with -bf 2 at 15 fps (x11grab, OBS)
#   bframes-3-30   ... -bf 3 at 30 fps
#   vfr-h264       sparse variable frame rate (frames only on change: mpdecimate), H.264 with B-frames
#   vfr-hevc       the same as HEVC in .mov (libx265, hvc1: how macOS writes it)
#   edit-offset    an MP4 with an empty edit (starts 0.5 s in) and a manifest offset of 1 s
#   yuv444-odd     H.264 High 4:4:4 at 1366x767 (x11grab without -pix_fmt)
#   fps-5994       59.94 fps
#   crashed        an MP4 whose recorder was SIGKILLed (no moov; parameter sets in band)
#   two-files      two videos of one size with a 2 s gap (pause/resume)
#   three-files    three videos, gaps, the last at another size (a display change)
#   mixed-rates    one video, audio segments at 8, 16, 44.1 (MP3) and 48 kHz
#
# Writes DIR/session.json and DIR/marks.txt (the marks' session times, ms).
# usage: make-recorder-session.sh KIND DIR
set -euo pipefail
kind=${1:?usage: make-recorder-session.sh KIND DIR}
dir=${2:?usage: make-recorder-session.sh KIND DIR}
rm -rf "$dir"
mkdir -p "$dir/video" "$dir/audio"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

# screen OUT FPS SECONDS SIZE MARKS_S ENCODER_ARGS... : a screen with flashes at MARKS_S
screen() {
  local out=$1 fps=$2 secs=$3 size=$4 marks=$5; shift 5
  local enable="" n
  for t in $marks; do
    n=$(python3 -c "print(round($t*($fps)))")
    enable="${enable:+$enable+}between(n\\,$n\\,$n)"
  done
  ffmpeg -v error -y -f lavfi -i "color=c=0x203040:size=$size:rate=$fps" -t "$secs" \
    -vf "drawtext=fontfile=$font:fontsize=36:fontcolor=white:x=30:y=30:text='%{eif\\:t\\:d} s',drawbox=c=white:t=fill:enable='$enable'" \
    "$@" "$out"
}

# beeps OUT RATE CHANNELS SECONDS MARKS_S : silence with 40 ms beeps at MARKS_S
beeps() {
  local out=$1 rate=$2 ch=$3 secs=$4 marks=$5 parts=() i=0
  sox -n -r "$rate" -c "$ch" -b 16 "$tmp/base.wav" trim 0 "$secs"
  for t in $marks; do
    sox -n -r "$rate" -c "$ch" -b 16 "$tmp/b$i.wav" synth 0.04 sine 1000 vol 0.5 pad "$t" 0
    parts+=(-v 1 "$tmp/b$i.wav"); i=$((i + 1))
  done
  sox -m -v 1 "$tmp/base.wav" "${parts[@]}" -b 16 "$out" trim 0 "$secs"
}

# frame-aligned marks: the session times of frames near T at FPS
aligned() { python3 -c "import sys; f=eval('$1'); print(' '.join(repr(round(float(t)*f)/f) for t in sys.argv[1:]))" "${@:2}"; }

video_json=""; audio_json=""; marks_ms=""
add_video() { video_json="${video_json:+$video_json,}{\"path\": \"video/$1\", \"offsetMs\": $2}"; }
add_audio() { audio_json="${audio_json:+$audio_json,}{\"path\": \"audio/$1\", \"offsetMs\": $2}"; }
# marks at file times MARKS_S in a file placed at OFFSET_MS (+ EXTRA_S inside the file)
note_marks() {
  local off=$1 extra=$2; shift 2
  for t in "$@"; do marks_ms="$marks_ms $(python3 -c "print(round($off + ($t + $extra) * 1000, 3))")"; done
}

case $kind in
  bframes-2-15|bframes-3-30)
    bf=${kind#bframes-}; bf=${bf%%-*}; fps=${kind##*-}
    m=$(aligned "$fps" 1 2.4 4 5.6 7.2)
    screen "$dir/video/screen.mp4" "$fps" 9 1280x720 "$m" -c:v libx264 -bf "$bf" -pix_fmt yuv420p
    beeps "$dir/audio/a.wav" 48000 1 9 "$m"; add_video screen.mp4 0; add_audio a.wav 0; note_marks 0 0 $m ;;
  vfr-h264|vfr-hevc)
    m=$(aligned 30 1 2.4 6 9.6 11.2)
    screen "$tmp/full.mp4" 30 13 1280x720 "$m" -c:v libx264 -pix_fmt yuv420p -crf 10
    if [ "$kind" = vfr-h264 ]; then
      ffmpeg -v error -y -i "$tmp/full.mp4" -vf mpdecimate -fps_mode vfr -c:v libx264 -pix_fmt yuv420p "$dir/video/screen.mp4"
      add_video screen.mp4 0
    else
      ffmpeg -v error -y -i "$tmp/full.mp4" -vf mpdecimate -fps_mode vfr -c:v libx265 -tag:v hvc1 -pix_fmt yuv420p \
        -x265-params log-level=error "$dir/video/screen.mov"
      add_video screen.mov 0
    fi
    beeps "$dir/audio/a.wav" 48000 1 13 "$m"; add_audio a.wav 0; note_marks 0 0 $m ;;
  edit-offset)
    m=$(aligned 30 1 2.4 4)
    screen "$tmp/v.mp4" 30 6 1280x720 "$m" -c:v libx264 -pix_fmt yuv420p
    ffmpeg -v error -y -i "$tmp/v.mp4" -c copy -output_ts_offset 0.5 "$dir/video/screen.mp4"
    # The file presents its frame at t at 0.5 + t; the manifest adds 1 s.
    beeps "$dir/audio/a.wav" 48000 1 8 "$(python3 -c "print(' '.join(repr(float(t) + 1.5) for t in '$m'.split()))")"
    add_video screen.mp4 1000; add_audio a.wav 0; note_marks 1000 0.5 $m ;;
  yuv444-odd)
    m=$(aligned 30 1 2.4 4 5.6)
    # ffmpeg's libx264 makes sizes even; GStreamer's x264enc keeps 1366x767 in 4:4:4.
    screen "$tmp/even.mp4" 30 7 1366x768 "$m" -c:v libx264 -pix_fmt yuv444p -crf 12
    gst-launch-1.0 -q filesrc location="$tmp/even.mp4" ! qtdemux ! avdec_h264 ! videoconvert ! videoscale \
      ! video/x-raw,format=Y444,width=1366,height=767 ! x264enc speed-preset=veryfast ! mp4mux \
      ! filesink location="$dir/video/screen.mp4"
    beeps "$dir/audio/a.wav" 48000 1 7 "$m"; add_video screen.mp4 0; add_audio a.wav 0; note_marks 0 0 $m ;;
  fps-5994)
    m=$(aligned 60000/1001 1 2.4 4 5.6 7.2)
    screen "$dir/video/screen.mp4" 60000/1001 8 1280x720 "$m" -c:v libx264 -preset veryfast -pix_fmt yuv420p
    beeps "$dir/audio/a.wav" 48000 1 8 "$m"; add_video screen.mp4 0; add_audio a.wav 0; note_marks 0 0 $m ;;
  crashed)
    m=$(aligned 30 1 2.4 4)
    screen "$tmp/src.mp4" 30 6 1280x720 "$m" -c:v libx264 -pix_fmt yuv420p -crf 12
    # A recorder killed while writing: real time, packets flushed, parameter sets in band, no moov.
    ffmpeg -v error -re -i "$tmp/src.mp4" -c:v libx264 -x264-params repeat-headers=1:keyint=30 -pix_fmt yuv420p \
      -flush_packets 1 "$dir/video/screen.mp4" & rec=$!
    sleep 5.5
    kill -9 "$rec"; wait "$rec" 2>/dev/null || true
    # What the recorder was shown, for the test to know the marks (outside the session).
    cp "$tmp/src.mp4" "$dir/../crash-source.mp4"
    beeps "$dir/audio/a.wav" 48000 1 6 "$m"; add_video screen.mp4 0; add_audio a.wav 0; note_marks 0 0 $m ;;
  two-files|three-files)
    m=$(aligned 30 1 2.4)
    screen "$dir/video/part-1.mp4" 30 4 1280x720 "$m" -c:v libx264 -pix_fmt yuv420p
    screen "$dir/video/part-2.mp4" 30 4 1280x720 "$m" -c:v libx264 -pix_fmt yuv420p
    add_video part-1.mp4 0; add_video part-2.mp4 6000
    note_marks 0 0 $m; note_marks 6000 0 $m
    beeps "$dir/audio/a1.wav" 48000 1 4 "$m"; beeps "$dir/audio/a2.wav" 48000 1 4 "$m"
    add_audio a1.wav 0; add_audio a2.wav 6000
    if [ "$kind" = three-files ]; then
      screen "$dir/video/part-3.mp4" 30 4 1920x1080 "$m" -c:v libx264 -pix_fmt yuv420p
      beeps "$dir/audio/a3.wav" 48000 1 4 "$m"
      add_video part-3.mp4 11000; add_audio a3.wav 11000; note_marks 11000 0 $m
    fi ;;
  mixed-rates)
    m=$(aligned 30 1 3.5 6 8.5)
    screen "$dir/video/screen.mp4" 30 10 1280x720 "$m" -c:v libx264 -pix_fmt yuv420p
    set -- $m
    beeps "$dir/audio/a8.wav" 8000 1 2 "$(python3 -c "print($1 - 0)")"; add_audio a8.wav 0
    beeps "$dir/audio/a16.wav" 16000 1 2 "$(python3 -c "print($2 - 2.5)")"; add_audio a16.wav 2500
    beeps "$tmp/a44.wav" 44100 2 2 "$(python3 -c "print($3 - 5)")"
    ffmpeg -v error -y -i "$tmp/a44.wav" -c:a libmp3lame -b:a 128k "$dir/audio/a44.mp3"; add_audio a44.mp3 5000
    beeps "$dir/audio/a48.wav" 48000 2 2 "$(python3 -c "print($4 - 7.5)")"; add_audio a48.wav 7500
    add_video screen.mp4 0; note_marks 0 0 $m ;;
  *) echo "unknown kind $kind" >&2; exit 2 ;;
esac

printf '{"schema": 1, "id": "%s", "video": [%s], "audio": [%s]}\n' "rec-$kind" "$video_json" "$audio_json" > "$dir/session.json"
for t in $marks_ms; do echo "$t"; done > "$dir/marks.txt"
