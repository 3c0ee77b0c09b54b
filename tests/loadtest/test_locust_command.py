"""One Locust command line: the operator's master Job and the local runs share it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rollguard.builders import build_master_job, build_worker_job
from rollguard_loadtest.locustrun import locust_command

LOADTEST = {
    "metadata": {"name": "lt", "namespace": "billing", "uid": "u"},
    "spec": {
        "target": {"url": "http://claims-api.billing.svc:80"},
        "image": "lt:1",
        "users": 7,
        "spawnRate": 3,
        "runTimeSeconds": 45,
        "workers": 2,
        "thresholds": {"p95Ms": 500, "errorRatePercent": 5},
    },
}


def container_command(job: dict) -> list[str]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return container["command"]


def test_the_local_run_is_the_operators_master_command_plus_its_reports(tmp_path):
    master = container_command(build_master_job(LOADTEST))
    local = locust_command(
        host="http://claims-api.billing.svc:80",
        users=7,
        spawn_rate=3,
        run_time="45s",
        csv_prefix=tmp_path / "l",
        locustfile=Path("locustfile.py"),
    )

    assert master[0] == "locust"
    assert local[:3] == [sys.executable, "-m", "locust"]
    assert master[1:] == [
        *local[3:-2],
        "--master",
        "--expect-workers",
        "2",
    ]
    assert local[-2:] == ["--csv", str(tmp_path / "l")]


def test_workers_follow_their_master():
    assert container_command(build_worker_job(LOADTEST)) == [
        "locust", "-f", "locustfile.py", "--worker", "--master-host", "lt-master",
    ]  # fmt: skip


def test_make_loadtest_runs_the_shared_builder():
    repo = Path(__file__).resolve().parents[2]
    dry = subprocess.run(
        ["make", "-n", "loadtest", "LOADTEST_TOKENS=t"], cwd=repo, capture_output=True, text=True, check=True
    )

    assert "-m rollguard_loadtest.locustrun" in dry.stdout
    assert " -f loadtest/locustfile.py" not in dry.stdout
