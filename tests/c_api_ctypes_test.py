#!/usr/bin/env python3
"""The C API from Python's ctypes, as a Rust/Swift/Python host would call it:
load libpostroll.so, start a runtime, subscribe with a C callback, submit
the demo session, receive its events, wait for the final record, and see a
bad session rejected with a message naming the file.

usage: c_api_ctypes_test.py LIBPOSTROLL SOURCE_DIR"""
import ctypes, json, os, subprocess, sys, tempfile, threading

lib_path, source_dir = sys.argv[1], sys.argv[2]
lib = ctypes.CDLL(lib_path)
c_char_pp = ctypes.POINTER(ctypes.c_char_p)
EVENT_FN = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)

lib.postroll_version.restype = ctypes.c_char_p
lib.postroll_last_error.restype = ctypes.c_char_p
lib.postroll_start.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.postroll_append_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.c_longlong, ctypes.POINTER(ctypes.c_void_p)]
lib.postroll_end_recording.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.postroll_submit.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.postroll_wait.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]
lib.postroll_status.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.postroll_subscribe.argtypes = [ctypes.c_void_p, EVENT_FN, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
lib.postroll_unsubscribe.argtypes = [ctypes.c_void_p]
lib.postroll_free.argtypes = [ctypes.c_void_p]
lib.postroll_string_free.argtypes = [ctypes.c_void_p]


def take_string(ptr):
    """Copies a library-owned string and frees it with postroll_string_free."""
    text = ctypes.cast(ptr, ctypes.c_char_p).value.decode()
    lib.postroll_string_free(ptr)
    return text


def check(condition, what):
    if not condition:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


check(lib.postroll_version() == b"0.1.0", "version")
with tempfile.TemporaryDirectory() as tmp:
    session = os.path.join(tmp, "demo")
    subprocess.run([os.path.join(source_dir, "scripts/make-demo-session.sh"), session, "8"], check=True,
                   stdout=subprocess.DEVNULL)
    config = os.path.join(tmp, "postroll.toml")
    with open(config, "w") as f:
        f.write('[enrich]\nenabled = false\n[notify]\ndesktop = false\n[log]\nlevel = "warn"\n')
    rt = ctypes.c_void_p()
    rc = lib.postroll_start(config.encode(), os.path.join(tmp, "db").encode(), ctypes.byref(rt))
    check(rc == 0, "start: " + lib.postroll_last_error().decode())

    events, lock, ended = [], threading.Lock(), threading.Event()

    @EVENT_FN
    def on_event(event_json, user_data):
        e = json.loads(event_json.decode())
        with lock:
            events.append(e)
        if e["kind"] in ("job-completed", "job-failed", "job-cancelled"):
            ended.set()

    sub = ctypes.c_void_p()
    check(lib.postroll_subscribe(rt, on_event, None, ctypes.byref(sub)) == 0, "subscribe")

    out = ctypes.c_void_p()
    rc = lib.postroll_submit(rt, session.encode(), b'{"priority": "high"}', ctypes.byref(out))
    check(rc == 0, "submit")
    job = json.loads(take_string(out))
    check(job["priority"] == "high" and job["state"] in ("pending", "processing"), "submitted record")

    check(ended.wait(120), "job-completed event received")
    rc = lib.postroll_wait(rt, job["id"].encode(), 60000, ctypes.byref(out))
    final = json.loads(take_string(out))
    check(rc == 0 and final["state"] == "completed", "final record completed")
    check(final["output"].endswith("postroll/session.mp4"), "final record names the playable file")
    with lock:
        kinds = [e["kind"] for e in events if e["jobId"] == job["id"]]
        progress = [e for e in events if e["kind"] == "stage-progress"]
    check(kinds[0] == "job-created" and kinds[-1] == "job-completed", "events in order: " + ",".join(kinds[:3]) + "...")
    check(len(progress) > 0 and all(0 <= e["progress"] <= 1 for e in progress), "progress events")

    rc = lib.postroll_submit(rt, os.path.join(tmp, "nowhere").encode(), None, None)
    check(rc == 1, "bad input is status 1 (POSTROLL_EBAD_INPUT)")
    check(b"nowhere" in lib.postroll_last_error(), "the message names the folder")
    rc = lib.postroll_status(rt, b"j-unknown", ctypes.byref(out))
    check(rc == 2, "unknown job is status 2 (POSTROLL_ENOT_FOUND)")
    rc = lib.postroll_submit(rt, session.encode(), b"not json", None)
    check(rc == 1 and b"JSON" in lib.postroll_last_error(), "bad options are reported, not thrown")

    # A live job: opened on an empty recording, fed a segment, ended.
    live = os.path.join(tmp, "live")
    os.makedirs(os.path.join(live, "audio"))
    with open(os.path.join(live, "session.json"), "w") as f:
        json.dump({"schema": 1, "id": "c-live"}, f)
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", os.path.join(live, "audio", "0.wav"),
                    "synth", "2", "sine", "440", "vol", "0.3"], check=True)
    rc = lib.postroll_submit(rt, live.encode(), b'{"live": true, "enrich": false}', ctypes.byref(out))
    check(rc == 0, "live submit")
    lj = json.loads(take_string(out))
    check(lj.get("live") is True, "the record says live")
    rc = lib.postroll_append_file(rt, lj["id"].encode(), b"audio", b"audio/0.wav", 0, ctypes.byref(out))
    check(rc == 0 and json.loads(take_string(out))["id"] == lj["id"], "append_file")
    with open(os.path.join(live, "session.json")) as f:
        check(len(json.load(f)["audio"]) == 1, "appended on disk")
    rc = lib.postroll_append_file(rt, lj["id"].encode(), b"audio", b"../x.wav", 0, None)
    check(rc == 1 and b"inside the session folder" in lib.postroll_last_error(), "an escaping path is refused")
    check(lib.postroll_end_recording(rt, lj["id"].encode(), None) == 0, "end_recording")
    rc = lib.postroll_wait(rt, lj["id"].encode(), 60000, ctypes.byref(out))
    lf = json.loads(take_string(out))
    check(rc == 0 and lf["state"] == "completed" and "live" not in lf, "the live job completed")

    lib.postroll_unsubscribe(sub)
    lib.postroll_free(rt)
print("all ok")
