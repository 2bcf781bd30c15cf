#!/usr/bin/env python3
"""A stand-in for danmu's HTTP server, for testing the live page alone: serves canned files from DIR.

    page-standin-server.py DIR

  GET /, /app.js, /style.css  DIR/index.html, DIR/app.js, DIR/style.css (the page's embedded assets)
  GET /rooms                  DIR/rooms-0.json on the first request, rooms-1.json on the second, ... and the
                              last one from then on (so counters grow between polls)
  GET /events?...             DIR/events.sse as text/event-stream, then a keep-alive comment every second until
                              the client goes away (at most 120 s)
  anything else               404

Each request line is appended to DIR/requests.log. Prints "listening on 127.0.0.1:PORT" once it listens on an
ephemeral loopback port, and serves until killed.
"""
import http.server
import os
import sys
import threading
import time

ROOT = sys.argv[1]
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json"}
lock = threading.Lock()
rooms_requests = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_file(self, name):
        path = os.path.join(ROOT, name)
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", TYPES.get(os.path.splitext(name)[1], "application/octet-stream"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock, open(os.path.join(ROOT, "requests.log"), "a") as log:
            log.write(self.path + "\n")
        path = self.path.split("?", 1)[0]
        if path in ("/", "/app.js", "/style.css"):
            self.send_file("index.html" if path == "/" else path[1:])
        elif path == "/rooms":
            with lock:
                index = rooms_requests[0]
                rooms_requests[0] += 1
            while index > 0 and not os.path.exists(os.path.join(ROOT, "rooms-%d.json" % index)):
                index -= 1
            self.send_file("rooms-%d.json" % index)
        elif path == "/events":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            with open(os.path.join(ROOT, "events.sse"), "rb") as f:
                self.wfile.write(f.read())
            self.wfile.flush()
            end = time.monotonic() + 120
            try:
                while time.monotonic() < end:
                    time.sleep(1)
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True
        else:
            self.send_error(404)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
