"""A tiny container for the runtime tests: an HTTP server whose behaviour the pod env chooses.

CRASH=1 exits at once with code 3; MESSAGE=<text> writes a termination message
and exits with EXIT_CODE (a Job); READY=never fails /ready for ever; otherwise
it serves /ready, /live and / (answering with the pod's name) on HOST:PORT.
"""

import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if os.environ.get("CRASH") == "1":
    sys.exit(3)

if "MESSAGE" in os.environ:
    with open(os.environ["ROLLGUARD_TERMINATION_LOG"], "w") as log:
        log.write(os.environ["MESSAGE"])
    time.sleep(float(os.environ.get("SLEEP", "0")))
    sys.exit(int(os.environ.get("EXIT_CODE", "0")))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/ready" and os.environ.get("READY") == "never":
            status, body = 503, b"not ready"
        else:
            status, body = 200, os.environ.get("POD_NAME", "?").encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler).serve_forever()
