"""A tiny stand-in for the claims API that can fail or stall on purpose, to prove the gate catches it.

It answers the paths the locustfile calls with the shapes docs/contracts.md
gives them. `mode` decides the damage: "ok", "errors" (every third request
answers 500) or "slow" (every answer waits 700 ms).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SLOW_SECONDS = 0.7


class FakeApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        self.seen_tokens: set[str] = set()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Locust hangs up on requests still in flight when the run ends.
        pass

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeApi

    def log_message(self, *_: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        with self.server.lock:
            number = next(self.server.counter)
            if auth := self.headers.get("Authorization"):
                self.server.seen_tokens.add(auth)
        if self.server.mode == "slow":
            time.sleep(SLOW_SECONDS)
        if self.server.mode == "errors" and number % 3 == 0:
            self._send(500, {"detail": "injected failure"})
            return
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        status, payload = _route(method, url.path, query, body)
        self._send(status, payload)

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _page(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"count": len(rows), "next": None, "previous": None, "results": rows}


def _route(method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
    parts = [p for p in path.split("/") if p]
    if path.startswith("/health/"):
        return 200, {"status": "ok"}
    if len(parts) < 3 or parts[:2] != ["api", "v1"]:
        return 404, {"detail": "not found"}
    resource, rest = parts[2], parts[3:]
    if resource == "claims":
        if method == "POST" and not rest:
            return 201, {"id": 1000, "status": "submitted", **body}
        if method == "POST" and rest[1:] == ["transition"]:
            return 200, {"id": int(rest[0]), "status": body.get("status")}
        if rest:
            return 200, {"id": int(rest[0]), "status": "submitted"}
        status = query.get("status", "submitted")
        return 200, _page([{"id": i, "status": status} for i in range(1, 6)])
    if resource == "payers" and rest == ["summary"]:
        return 200, _page([{"payer": 1, "claim_count": 3, "denial_rate": 0.25}])
    if resource == "payers":
        return 200, _page([{"id": i, "is_active": True} for i in range(1, 6)])
    if resource in {"patients", "audit-events"}:
        return 200, _page([{"id": i} for i in range(1, 6)])
    return 404, {"detail": "not found"}


@contextlib.contextmanager
def serving(mode: str) -> Iterator[FakeApi]:
    server = FakeApi(mode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
