"""A real Prometheus (the `prometheus` binary) scraping a tiny metrics server with known values.

The metrics server plays two revisions of the claims API. Every scrape adds the
same requests, so the rates Prometheus computes are exact:

- `stable`: 10 requests a scrape, all 200; 9 of them within 0.1 s, 1 within 0.5 s
  (error rate 0, p95 0.3 s);
- `canary`: 10 requests a scrape, 1 of them 500; 5 within 0.1 s, 4 within 0.5 s,
  1 within 2.5 s (error rate 0.1, p95 1.5 s).

Prometheus finds the server through file-based service discovery, as the
sandbox's kubelet writes it.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BUCKETS = ("0.1", "0.5", "2.5", "+Inf")
# per scrape: requests by (revision, code), and cumulative bucket counts by revision
REQUESTS = {("stable", "200"): 10, ("stable", "500"): 0, ("canary", "200"): 9, ("canary", "500"): 1}
CUMULATIVE = {"stable": (9, 10, 10, 10), "canary": (5, 9, 10, 10)}

ERROR_RATE = (
    'sum(rate(http_requests_total{{revision="{revision}",code=~"5.."}}[10s]))'
    ' / sum(rate(http_requests_total{{revision="{revision}"}}[10s]))'
)
P95 = (
    "histogram_quantile(0.95, sum by (le)"
    ' (rate(http_request_duration_seconds_bucket{{revision="{revision}"}}[10s])))'
)


def exposition(scrapes: int) -> str:
    """The text exposition after `scrapes` scrapes."""
    lines = ["# TYPE http_requests_total counter"]
    for (revision, code), each in REQUESTS.items():
        lines.append(f'http_requests_total{{revision="{revision}",code="{code}"}} {each * scrapes}')
    lines.append("# TYPE http_request_duration_seconds histogram")
    for revision, counts in CUMULATIVE.items():
        for le, count in zip(BUCKETS, counts, strict=True):
            lines.append(
                f'http_request_duration_seconds_bucket{{revision="{revision}",le="{le}"}} {count * scrapes}'
            )
        lines.append(f'http_request_duration_seconds_count{{revision="{revision}"}} {counts[-1] * scrapes}')
    return "\n".join(lines) + "\n"


class _Metrics(BaseHTTPRequestHandler):
    scrapes = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            type(self).scrapes += 1
            body = exposition(type(self).scrapes).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def metrics_server() -> Iterator[str]:
    """The metrics server's `host:port`, serving `/metrics` until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def query(url: str, promql: str) -> dict:
    with urllib.request.urlopen(
        f"{url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}", timeout=2
    ) as r:
        return json.loads(r.read())


@contextlib.contextmanager
def prometheus(folder: Path, target: str, port: int, timeout: float = 20.0) -> Iterator[str]:
    """Prometheus on `port` (data and config in `folder`), scraping `target` every second;
    yields its URL once it has the two samples a rate over the target needs."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus is not on PATH; `make prometheus` installs Debian's package")
    (folder / "targets").mkdir(parents=True)
    (folder / "targets" / "api.json").write_text(
        json.dumps([{"targets": [target], "labels": {"namespace": "claims"}}])
    )
    config = folder / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: api\n"
        f"    file_sd_configs: [{{files: ['{folder / 'targets'}/*.json'], refresh_interval: 1s}}]\n"
    )
    log = (folder / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_rates(url, process, folder / "prometheus.log", timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for_rates(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError, ValueError):
            if query(url, ERROR_RATE.format(revision="canary"))["data"]["result"]:
                return
        time.sleep(0.2)
    raise RuntimeError(f"prometheus had no rate of the target within {timeout}s: {log.read_text()[-2000:]}")
