#!/usr/bin/env python3
"""A local HTTP server for tests: records every POST (path, headers, body)
to a JSON-lines log and answers from a script of responses.

usage: fake_http_server.py LOG MODE
  MODE "webhook-flaky": 500 to the first POST, 200 after.
  MODE "chat":          an OpenAI-style chat completion with a fixed text.
  MODE "slow":          waits 30 s before answering (a timeout test).
  MODE "gated":         503 while the file LOG.down exists, 200 otherwise; checks
                        X-Postroll-Signature against $POSTROLL_TEST_HOOK_SECRET
                        and logs "signatureValid".
Prints "listening PORT" once ready and "post N STATUS" after each answer."""
import hashlib, hmac, json, os, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

log_path, mode = sys.argv[1], sys.argv[2]
count = 0

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        count += 1
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = raw.decode()
        entry = {"path": self.path, "headers": dict(self.headers), "body": body}
        status = 200
        if mode == "gated":
            secret = os.environ.get("POSTROLL_TEST_HOOK_SECRET", "").encode()
            expected = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
            entry["signatureValid"] = hmac.compare_digest(expected, self.headers.get("X-Postroll-Signature", ""))
            status = 503 if os.path.exists(log_path + ".down") else 200
            entry["status"] = status
        with open(log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")
        if status != 200:
            self.send_response(status); self.end_headers()
            print("post", count, status, flush=True)
            return
        if mode == "slow":
            time.sleep(30)
        if mode == "webhook-flaky" and count == 1:
            self.send_response(500); self.end_headers()
            print("post", count, 500, flush=True)
            return
        answer = b"{}"
        if mode == "chat":
            answer = json.dumps({"choices": [{"message": {"role": "assistant",
                                 "content": "CHAT SUMMARY: the team planned the release."}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        print("post", count, 200, flush=True)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Handler)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
