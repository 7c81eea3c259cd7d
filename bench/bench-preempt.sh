#!/usr/bin/env bash
# Start latency of a high-priority job on a full node: one media worker,
# busy compressing a normal session (1080p, a long media.compress), when a
# high-priority session arrives. With queue.preempt on (the default) the
# compress is stopped for it; off (the behaviour before it), the high job
# waits for the compress to end. Latency = the high job's first stage
# startedAt - its createdAt, both from the queue's own record.
# Writes the table into docs/performance.md.
#
# usage: [NO_DOC=1] bench/bench-preempt.sh   (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/build/postroll
work=$(mktemp -d)
node_pid=""
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/normal/video" "$work/urgent/audio"
gst-launch-1.0 -q videotestsrc num-buffers=900 pattern=ball ! \
  video/x-raw,format=I420,width=1920,height=1080,framerate=15/1 ! \
  x264enc speed-preset=ultrafast quantizer=8 pass=qual ! mp4mux ! filesink location="$work/normal/video/screen.mp4"
printf '{"schema":1,"id":"bench-normal","video":[{"path":"video/screen.mp4","offsetMs":0}]}' > "$work/normal/session.json"
sox -n -r 48000 -c 1 "$work/urgent/audio/a.wav" synth 3 sine 440
printf '{"schema":1,"id":"bench-urgent","audio":[{"path":"audio/a.wav","offsetMs":0}]}' > "$work/urgent/session.json"

field() { python3 -c "import json,sys; print(eval(sys.argv[1], {'j': json.load(sys.stdin)}))" "$1"; }

rows=""
for preempt in true false; do
  cfg=$work/node-$preempt.toml
  printf '[node]\nport = 0\ndata_dir = "%s"\n[media]\nworkers = 1\n[enrich]\nenabled = false\n[notify]\ndesktop = false\n[http]\nenabled = false\n[queue]\npreempt = %s\n' \
    "$work/db-$preempt" "$preempt" > "$cfg"
  rm -rf "$work/normal/postroll" "$work/urgent/postroll"
  "$bin" node --config "$cfg" > "$work/node-$preempt.log" 2>&1 &
  node_pid=$!
  until [ -s "$work/db-$preempt/node.endpoint" ]; do sleep 0.1; done
  a=$("$bin" submit "$work/normal" --config "$cfg" --json | field 'j["id"]')
  # Until the normal job's compress is running (polling: a benchmark, not a test).
  until "$bin" status "$a" --config "$cfg" --json |
        field '[s for s in j["stages"] if s["name"] == "media.compress"][0]["state"]' | grep -q processing; do
    sleep 0.2
  done
  b=$("$bin" submit "$work/urgent" --config "$cfg" --priority high --json | field 'j["id"]')
  while :; do
    rec=$("$bin" status "$b" --config "$cfg" --json)
    started=$(echo "$rec" | field 'j["stages"][0]["startedAt"]')
    [ "$started" != 0 ] && break
    sleep 0.2
  done
  created=$(echo "$rec" | field 'j["createdAt"]')
  latency=$(awk -v s="$started" -v c="$created" 'BEGIN { printf "%.2f", (s - c) / 1000 }')
  kill -TERM "$node_pid"; wait "$node_pid" 2>/dev/null || true; node_pid=""
  echo "queue.preempt = $preempt: high-priority start latency $latency s"
  eval "lat_$preempt=$latency"
  rows+="| \`queue.preempt = $preempt\` | $latency s |"$'\n'
done
ratio=$(awk -v a="$lat_false" -v b="$lat_true" 'BEGIN { printf "%.0f", a / (b > 0.01 ? b : 0.01) }')
table="| one media worker compressing a 60 s 1080p session; a high-priority session arrives | high job's first stage starts after |
|---|---|
${rows}| **preemption's gain (off / on)** | **${ratio}x** |
"
echo "$table"
[ -n "${NO_DOC:-}" ] && exit 0
bench/write-doc-block.py preempt "High priority on a full node" "$table"
