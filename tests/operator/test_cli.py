"""The command line: `verify` against a live local HTTP server, and the namespaces `run` serves."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from rollguard import cli


class Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 503 `failures` times, then 200."""

    failures = 0
    seen = 0

    def do_GET(self) -> None:
        type(self).seen += 1
        status = 503 if type(self).seen <= type(self).failures else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[Flaky]]]:
    handler = type("Handler", (Flaky,), {"failures": 0, "seen": 0})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/health/ready", handler
    httpd.shutdown()
    httpd.server_close()


def verify(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "rollguard", "verify", "--url", url, "--interval", "0.05", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("failures", "retries", "code"), [(0, 0, 0), (2, 5, 0), (5, 5, 0), (6, 5, 1), (1, 0, 1)]
)
def test_verify_retries_until_the_service_recovers_or_gives_up(server, failures, retries, code):
    url, handler = server
    handler.failures = failures

    result = verify(url, "--retries", str(retries), "--timeout", "2")

    assert result.returncode == code, result.stdout + result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    assert result.stdout.startswith("recovered" if code == 0 else "not recovered")
    assert handler.seen == min(failures + 1, retries + 1)


@pytest.mark.integration
def test_verify_reports_an_unreachable_service():
    result = verify("http://127.0.0.1:9/health/ready", "--retries", "1", "--timeout", "1")

    assert result.returncode == 1
    assert "not recovered after 2 attempt(s)" in result.stdout


@pytest.mark.integration
def test_run_refuses_to_start_without_a_scope(monkeypatch):
    monkeypatch.delenv("ROLLGUARD_NAMESPACE", raising=False)
    result = subprocess.run(
        [sys.executable, "-m", "rollguard", "--liveness", ""],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "--all-namespaces" in result.stderr


@pytest.mark.parametrize(
    ("flags", "environ_value", "served"),
    [
        (["billing"], None, ["billing"]),
        (["billing", "billing-staging"], "ignored", ["billing", "billing-staging"]),
        (["billing", "billing"], None, ["billing"]),
        (None, "billing, billing-staging", ["billing", "billing-staging"]),
        (None, "", []),
        (None, None, []),
    ],
)
def test_every_namespace_given_is_served(flags, environ_value, served):
    assert cli.served_namespaces(flags, environ_value) == served


def test_run_hands_every_namespace_to_kopf(monkeypatch):
    import kopf

    seen = {}

    async def operator(**kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(kopf, "operator", operator)

    code = cli.main(
        ["run", "--namespace", "billing", "-n", "billing-staging", "--liveness", "", "--no-leader-elect"]
    )

    assert code == 0
    assert seen["namespaces"] == ["billing", "billing-staging"]
    assert seen["clusterwide"] is False
    assert seen["memo"].elector is None


def test_leader_election_is_on_by_default_with_controller_runtimes_durations():
    args = cli.build_parser().parse_args(["run", "-n", "billing"])

    assert args.leader_elect is True
    assert (
        args.leader_election_lease_duration,
        args.leader_election_renew_deadline,
        args.leader_election_retry_period,
    ) == (15.0, 10.0, 2.0)


@pytest.mark.parametrize(
    ("flags", "complaint"),
    [
        (["--all-namespaces"], "--leader-election-namespace"),
        (["-n", "billing", "--leader-election-renew-deadline", "20"], "longer than the renew deadline"),
    ],
)
def test_leader_election_that_cannot_work_is_refused_before_starting(flags, complaint, monkeypatch, capsys):
    monkeypatch.delenv("POD_NAMESPACE", raising=False)

    assert cli.main(["run", *flags]) == 2
    assert complaint in capsys.readouterr().err
