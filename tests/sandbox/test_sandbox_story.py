"""The whole story end to end: `python -m rollguard_sandbox`, short load tests, as a separate process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from rollguard_sandbox.checkout import PACKAGE_DIR, Checkout
from rollguard_sandbox.story import load_story

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(540)]

MISSING = Checkout.find().missing()
EXPECTED = {
    "initial": "Succeeded",
    "payer-summary-rollup": "Succeeded",
    "config-change": "Succeeded",
    "unreachable-database": "RolledBack",
    "crash-loop": "RolledBack",
    "broken-endpoint": "RolledBack",
    "broken-endpoint-canary": "RolledBack",
}
BROKEN = ("broken-endpoint", "broken-endpoint-canary")
ROLLUP = [
    "billing.0006_claim_rollup",
    "billing.0007_claim_rollup_backfill",
    "billing.0011_claim_rollup_row_security",
]


def _descendants(pid: int) -> set[tuple[int, float]]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return set()
    found = set()
    for child in children:
        try:
            found.add((child.pid, child.create_time()))
        except psutil.Error:
            continue
    return found


def _alive(known: set[tuple[int, float]]) -> list[str]:
    alive = []
    for pid, created in known:
        try:
            proc = psutil.Process(pid)
            if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {' '.join(proc.cmdline())[:120]}")
        except psutil.Error:
            continue
    return alive


def _mentioning(text: str) -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if text in cmdline:
            found.append(f"{proc.info['pid']} {cmdline[:120]}")
    return found


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> dict:
    """Run the story once for every assertion of this module; remember every process it started."""
    if MISSING:
        pytest.skip("the sandbox story needs " + ", ".join(MISSING))
    results = tmp_path_factory.mktemp("sandbox") / "demo"
    command = [
        sys.executable,
        "-m",
        "rollguard_sandbox",
        "--results",
        str(results),
        "--load-seconds",
        "5",
        "--ready-timeout",
        "30",
        "--backoff",
        "1",
        "--release-timeout",
        "150",
    ]
    log = results.parent / "sandbox.log"
    seen: set[tuple[int, float]] = set()
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 480
        while proc.poll() is None:
            seen |= _descendants(proc.pid)
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGINT)
                proc.wait(timeout=60)
                pytest.fail(f"the sandbox did not finish in time; see {log}")
            time.sleep(0.3)
    time.sleep(0.5)
    summary_path = results / "summary.json"
    assert summary_path.exists(), log.read_text()[-5000:]
    return {
        "summary": json.loads(summary_path.read_text()),
        "exit": proc.returncode,
        "pgid": proc.pid,
        "seen": seen,
        "results": results,
        "log": log.read_text(),
    }


def releases(story) -> dict[str, dict]:
    return {release["name"]: release for release in story["summary"]["releases"]}


def test_every_release_ends_in_its_expected_phase(story):
    assert {name: r["phase"] for name, r in releases(story).items()} == EXPECTED, story["log"][-4000:]
    assert story["exit"] == 0


def test_migrations_ran_in_the_embedded_database_expand_before_contract(story):
    rows = story["summary"]["migrations"]
    initial, rollup = releases(story)["initial"], releases(story)["payer-summary-rollup"]
    assert rows, "django_migrations is empty: expand never ran"
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    by_job = {row["job"] for row in rows}
    revisions = (initial["revision"], rollup["revision"])
    assert by_job <= {f"{phase}-{revision}" for phase in ("expand", "contract") for revision in revisions}
    for revision in revisions:
        expand = [row["id"] for row in rows if row["job"] == f"expand-{revision}"]
        contract = [row["id"] for row in rows if row["job"] == f"contract-{revision}"]
        assert expand, f"no row was applied by the expand Job of {revision}"
        if contract:
            assert max(expand) < min(contract), "a contract migration was applied before an expand one"
    assert initial["migrations"].get("expand") == "Succeeded"
    assert initial["migrations"].get("contract") == "Succeeded"
    phases = [span["phase"] for span in initial["spans"]]
    assert phases.index("Expanding") < phases.index("RollingOut") < phases.index("Verifying")
    assert phases.index("Verifying") < phases.index("Contracting")


def test_release_1_ran_without_the_rollup_and_release_2_shipped_it_while_release_1_served(story):
    initial, rollup = releases(story)["initial"], releases(story)["payer-summary-rollup"]
    assert "billing_claim" in initial["tables"]
    assert "billing_claimrollup" not in initial["tables"]
    assert not {m["name"] for m in initial["applied_migrations"]} & set(ROLLUP)
    assert "billing_claimrollup" in rollup["tables"]
    applied = {m["name"]: m["job"] for m in rollup["applied_migrations"]}
    assert applied == {label: f"expand-{rollup['revision']}" for label in ROLLUP}
    phases = [span["phase"] for span in rollup["spans"]]
    assert phases.index("Expanding") < phases.index("RollingOut") < phases.index("Contracting")
    assert rollup["prober"]["requests"] > 0
    assert rollup["prober"]["failures"] == 0


def test_after_release_2_the_rollup_equals_a_full_aggregate_of_the_claims(story):
    found = releases(story)["payer-summary-rollup"]["checks"]["rollup_check"]
    assert found["exitCode"] == 0, found
    report = found["report"]
    assert report["ok"] is True
    assert report["differences"] == 0
    assert report["keys"] > 0
    # The seed's claims were written during release 1, before the triggers: the backfill's.
    assert report["backfill"]["installMax"] > 0
    assert report["backfill"]["doneUpto"] == report["backfill"]["installMax"]


def test_load_tests_passed_for_the_releases_that_succeeded(story):
    for name in ("initial", "payer-summary-rollup", "config-change"):
        load_test = releases(story)[name]["load_test"]
        assert load_test.get("phase") == "Passed", load_test
        assert load_test.get("requests", 0) > 0


def test_rolled_back_releases_left_the_stable_pods_serving(story):
    stable = releases(story)["config-change"]["revision"]
    for name in ("unreachable-database", "crash-loop", *BROKEN):
        rollback = releases(story)[name]["rollback"]
        assert rollback.get("toRevision") == stable, rollback
        assert rollback.get("recoverySeconds") is not None
    final = story["summary"]["final"]
    assert final["stableRevision"] == stable
    assert final["readyStatus"] == 200
    assert len(final["pods"]) == 4  # the broken releases' replica count, all of the stable revision
    assert all(pod["ready"] and pod["revision"] == final["deploymentTemplateHash"] for pod in final["pods"])


def test_the_prober_saw_no_failure_outside_the_broken_builds_releases(story):
    prober = story["summary"]["prober"]
    assert prober["requests"] > 100
    assert prober["unexpectedFailures"] == 0, prober["failed"][:5]
    for name, release in releases(story).items():
        assert {"failures", "requests"} <= set(release["prober"]), name
        assert release["strategy"] == ("canary" if name == "broken-endpoint-canary" else "rolling")
        if name not in BROKEN:
            assert release["prober"]["failures"] == 0, name


def test_a_canary_lets_the_broken_build_fail_fewer_requests_than_a_rolling_update(story):
    rolling, canary = (releases(story)[name] for name in BROKEN)
    assert rolling["rollback"]["reason"] == "LoadTestFailed", rolling["rollback"]
    assert canary["rollback"]["reason"] == "AnalysisFailed", canary["rollback"]
    assert "error-rate" in canary["message"] or "canary-load" in canary["message"], canary["message"]
    for release in (rolling, canary):
        exposure = release["exposure"]
        assert exposure["revision"] == release["revision"]
        assert exposure["failed"] > 0, exposure  # the bad build did answer, and failed
        # Every failure while it served was its own: the stable pods never took its settings.
        assert exposure["failures"] == exposure["failed"], exposure
    (step,) = [step for step in load_story(PACKAGE_DIR / "story.yaml") if step.name == BROKEN[1]]
    first_weight = step.values["strategy"]["canary"]["steps"][0]["setWeight"]
    assert canary["exposure"]["failedPercent"] <= first_weight + 5, canary["exposure"]
    assert canary["exposure"]["failedPercent"] < rolling["exposure"]["failedPercent"]
    assert canary["prober"]["failures"] < rolling["prober"]["failures"]


def test_no_process_outlives_the_sandbox(story):
    assert story["seen"], "the sandbox started no processes?"
    assert _alive(story["seen"]) == []
    assert _mentioning(str(story["results"])) == []
    with pytest.raises(ProcessLookupError):
        os.killpg(story["pgid"], 0)


def test_the_timeline_picture_is_written(story):
    picture = story["results"] / "timeline.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture.stat().st_size > 10_000


def test_ctrl_c_stops_everything_the_sandbox_started(tmp_path):
    if MISSING:
        pytest.skip("the sandbox story needs " + ", ".join(MISSING))
    results = tmp_path / "demo"
    command = [
        sys.executable,
        "-m",
        "rollguard_sandbox",
        "--results",
        str(results),
        "--only",
        "unreachable-database",
    ]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    seen: set[tuple[int, float]] = set()
    deadline = time.monotonic() + 90
    # Interrupt once the API pods run: PostgreSQL, the operator and gunicorn are all up then.
    while not any("gunicorn" in _cmdline(p) for p in _processes(_descendants(proc.pid))):
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "no API pod started"
        seen |= _descendants(proc.pid)
        time.sleep(0.3)
    seen |= _descendants(proc.pid)
    os.kill(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert "interrupted" in output
    time.sleep(0.5)
    assert _alive(seen) == []
    assert _mentioning(str(results)) == []


def _processes(known: set[tuple[int, float]]) -> list[psutil.Process]:
    found = []
    for pid, _ in known:
        try:
            found.append(psutil.Process(pid))
        except psutil.Error:
            continue
    return found


def _cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""
