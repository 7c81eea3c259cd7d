#!/usr/bin/env python3
"""A recorder as postroll's live contract expects one (docs/session-format.md).

Records a session of SECONDS into DIR at SPEED x real time: a 10 s audio
segment (speech from espeak-ng, then quiet) every 10 s of session time,
optionally a screen video that grows as it is written (fragmented MP4 by
ffmpeg, read-rate limited), and after each new file session.json rewritten
by atomic rename. The last rewrite carries endedAt. Segments are made up
front in DIR/../staging and moved in when "recorded", so a listed file is
always complete.

usage: live-recorder.py DIR SECONDS SPEED [--video] [--ready FILE]
  --ready FILE: wait until FILE exists before recording (the test opened the job)
"""
import json, os, subprocess, sys, time

LINES = [
    "the queue actor persists every job before it answers the client",
    "we measured the merge on two cores and it took four seconds",
    "chapters come from the screen and the transcript from the microphone",
    "a live job does the work while the recording is being made",
    "the dashboard shows the recording and how far behind it is",
    "kill the node and the job goes on where it stopped",
]


def write_manifest(d, doc):
    tmp = os.path.join(d, ".session.json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(d, "session.json"))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    d, seconds, speed = args[0], int(args[1]), float(args[2])
    video = "--video" in sys.argv
    ready = sys.argv[sys.argv.index("--ready") + 1] if "--ready" in sys.argv else None
    if ready in args:
        args.remove(ready)
    staging = os.path.join(os.path.dirname(os.path.abspath(d)), "staging-" + os.path.basename(d))
    os.makedirs(os.path.join(d, "audio"), exist_ok=True)
    os.makedirs(staging, exist_ok=True)
    n = (seconds + 9) // 10
    for i in range(n):
        line = os.path.join(staging, "line%d.wav" % i)
        subprocess.run(["espeak-ng", "-s", "150", "-w", line, LINES[i % len(LINES)]], check=True)
        # 10 s segments: speech, then quiet room noise; the recorder's own format (16 kHz mono WAV)
        subprocess.run(["sox", "-V1", line, "-r", "16000", "-c", "1", "-b", "16", os.path.join(staging, "%04d.wav" % i),
                        "pad", "0.5", "10", "trim", "0", "10"], check=True)
    doc = {"schema": 1, "id": os.path.basename(os.path.abspath(d)), "name": "Live recording",
           "startedAt": int(time.time() * 1000), "audio": []}
    ff = None
    if video:
        os.makedirs(os.path.join(d, "video"), exist_ok=True)
        # A screen video written as it is recorded: fragments every second, readable while it grows.
        ff = subprocess.Popen(["ffmpeg", "-loglevel", "error", "-readrate", str(speed), "-f", "lavfi", "-i",
                               "testsrc2=size=640x360:rate=15:duration=%d" % seconds, "-c:v", "libx264",
                               "-preset", "ultrafast", "-g", "15", "-movflags", "frag_keyframe+empty_moov",
                               "-y", os.path.join(d, "video/screen.mp4")])
        while not os.path.exists(os.path.join(d, "video/screen.mp4")):
            time.sleep(0.01)
        doc["video"] = [{"path": "video/screen.mp4", "offsetMs": 0}]
    write_manifest(d, doc)
    if ready:
        while not os.path.exists(ready):
            time.sleep(0.02)
    start = time.monotonic()
    for i in range(n):
        # segment i is finished at session time 10*(i+1)
        due = start + 10 * (i + 1) / speed
        time.sleep(max(0, due - time.monotonic()))
        name = "audio/%04d.wav" % i
        os.rename(os.path.join(staging, "%04d.wav" % i), os.path.join(d, name))
        doc["audio"].append({"path": name, "offsetMs": 10000 * i})
        write_manifest(d, doc)
        print("recorded %s late_ms=%d" % (name, int((time.monotonic() - due) * 1000)), flush=True)
    if ff:
        ff.wait()
    doc["endedAt"] = int(time.time() * 1000)
    write_manifest(d, doc)
    print("ended %d" % doc["endedAt"], flush=True)


main()
