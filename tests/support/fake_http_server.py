#!/usr/bin/env python3
"""A local HTTP server for tests: records every POST (path, headers, body)
to a JSON-lines log and answers from a script of responses.

usage: fake_http_server.py LOG MODE
  MODE "webhook-flaky": 500 to the first POST, 200 after.
  MODE "chat":          an OpenAI-style chat completion with a fixed text.
  MODE "slow":          waits 30 s before answering (a timeout test).
Prints "listening PORT" once ready and "post N STATUS" after each answer."""
import json, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

log_path, mode = sys.argv[1], sys.argv[2]
count = 0

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        count += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with open(log_path, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
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
