"""A pod's container as `podman run` of a built image: pure, no podman needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rollguard_sandbox.checkout import Checkout
from rollguard_sandbox.containers import ContainerConfigError, Mount, build_container_run, security_options

POD = {
    "metadata": {"name": "claims-api-abc", "namespace": "default"},
    "spec": {"securityContext": {"runAsUser": 10001, "runAsGroup": 10001}},
}
SECRETS = {("Secret", "db"): {"DATABASE_URL": "postgresql://app:pw@postgres:5432/claims"}}


def lookup(kind, name):
    return SECRETS.get((kind, name))


def launch(container, tmp_path: Path, *, reference="localhost/rollguard/claims-api:dev"):
    image = Checkout.find().images({"api": reference, "loadtest": "localhost/rollguard/loadtest:dev"})
    return build_container_run(
        container,
        pod=POD,
        image=image.resolve(container["image"]),
        name="run-claims-api-abc-api-0",
        lookup=lookup,
        ports={"8000": 41234, "http": 41234},
        mounts=[Mount(tmp_path / "tmp", "/tmp"), Mount(tmp_path / "cm", "/mnt/locustfile", read_only=True)],
        hosts={
            "postgres": "127.0.0.1:55432",
            "claims-api:80": "127.0.0.1:48000",
            "claims-api:5557": "127.0.0.1:47000",
        },
        termination_log=tmp_path / "api.termination-log",
        base_env={"PATH": "/host/bin", "CONTAINERS_CONF": "/repo/mk/containers.conf"},
        labels={"dev.rollguard.sandbox.run": "run"},
    )


API = {
    "name": "api",
    "image": "ghcr.io/rollguard/claims-api:0.1.0",
    "ports": [{"name": "http", "containerPort": 8000}],
    "envFrom": [{"secretRef": {"name": "db"}}],
    "env": [{"name": "LOG_LEVEL", "value": "INFO"}],
    "securityContext": {
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    },
}


def test_the_api_container_runs_its_built_image_on_the_host_network_with_the_pods_settings(tmp_path):
    spec = launch(API, tmp_path)
    argv = list(spec.argv)

    assert argv[:8] == [
        "podman",
        "run",
        "--rm",
        "--name",
        "run-claims-api-abc-api-0",
        "--network",
        "host",
        "--pull",
    ]
    assert argv[-1] == "localhost/rollguard/claims-api:dev"  # the image's own CMD (gunicorn)
    assert "--entrypoint" not in argv
    assert argv[argv.index("--user") : argv.index("--user") + 2] == ["--user", "10001:10001"]
    assert "--read-only" in argv
    assert "no-new-privileges" in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    volumes = [argv[i + 1] for i, part in enumerate(argv) if part == "--volume"]
    assert volumes == [
        f"{tmp_path / 'tmp'}:/tmp",
        f"{tmp_path / 'cm'}:/mnt/locustfile:ro",
        f"{tmp_path / 'api.termination-log'}:/dev/termination-log",
    ]
    assert argv[argv.index("--label") + 1] == "dev.rollguard.sandbox.run=run"
    assert spec.exec_prefix == ("podman", "exec", "run-claims-api-abc-api-0")


def test_env_goes_to_podman_by_name_only_with_in_cluster_hosts_and_the_local_port(tmp_path):
    spec = launch(API, tmp_path)
    named = {spec.argv[i + 1] for i, part in enumerate(spec.argv) if part == "--env"}

    assert named == {"DATABASE_URL", "LOG_LEVEL", "PORT", "HOST"}
    assert not any("pw@" in part for part in spec.argv), "a Secret value must not show in a process list"
    assert spec.env["DATABASE_URL"] == "postgresql://app:pw@127.0.0.1:55432/claims"
    assert spec.env["PORT"] == "41234"
    assert spec.env["HOST"] == "127.0.0.1"
    assert spec.env["CONTAINERS_CONF"] == "/repo/mk/containers.conf"


def test_command_replaces_the_entrypoint_and_args_follow_the_image_with_vars_and_hosts(tmp_path):
    job = {
        "name": "locust",
        "image": "ghcr.io/rollguard/loadtest:0.1.0",
        "command": ["locust"],
        "args": [
            "-f",
            "/mnt/locustfile/locustfile.py",
            "--host",
            "http://claims-api:80",
            "-u",
            "$(USERS)",
        ],
        "env": [{"name": "USERS", "value": "4"}],
    }
    argv = list(launch(job, tmp_path).argv)

    assert json.loads(argv[argv.index("--entrypoint") + 1]) == ["locust"]
    image_at = argv.index("localhost/rollguard/loadtest:dev")
    assert argv[image_at + 1 :] == [
        "-f", "/mnt/locustfile/locustfile.py", "--host", "http://127.0.0.1:48000", "-u", "4",
    ]  # fmt: skip


def test_a_locust_worker_container_dials_the_master_services_local_listener(tmp_path):
    worker = {
        "name": "locust",
        "image": "ghcr.io/rollguard/loadtest:0.1.0",
        "command": ["locust", "-f", "locustfile.py", "--worker", "--master-host", "claims-api"],
    }
    argv = list(launch(worker, tmp_path).argv)

    entrypoint = json.loads(argv[argv.index("--entrypoint") + 1])
    assert entrypoint == ["locust", "-f", "locustfile.py", "--worker", "--master-host", "127.0.0.1"]
    image_at = argv.index("localhost/rollguard/loadtest:dev")
    assert argv[image_at + 1 :] == ["--master-port", "47000"]


def test_an_image_without_a_built_reference_is_a_config_error(tmp_path):
    with pytest.raises(ContainerConfigError, match="no built image"):
        launch(API, tmp_path, reference="")


def test_the_containers_security_context_wins_over_the_pods():
    container = {"securityContext": {"runAsUser": 20002}}
    assert security_options(container, POD) == ["--user", "20002:10001"]
    assert security_options({}, {"spec": {}}) == []
