"""The verification LoadTest of a release, and the Locust Jobs and Service of a LoadTest."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from rollguard.builders.common import child_metadata, fit_name, release_labels
from rollguard.builders.locust import headless_args, master_args, worker_args
from rollguard.builders.spec import (
    JOB_TTL_SECONDS,
    LOADTEST_LABEL,
    RELEASE_LABEL,
    REVISION_LABEL,
    ROLE_LABEL,
    loadtest_spec,
    release_spec,
    revision_of,
)

LOCUSTFILE_DIR = "/mnt/locustfile"
RESULTS_DIR = "/tmp/locust-results"  # noqa: S108 - an emptyDir inside the pod, not a host path
IMAGE_LOCUSTFILE = "locustfile.py"
MASTER_PORT = 5557


def verification_name(release_name: str, revision: str) -> str:
    return fit_name(f"{release_name}-verify-{revision}")


def build_verification_loadtest(
    release: Mapping[str, Any], *, name: str | None = None, service: str | None = None
) -> dict[str, Any]:
    """The LoadTest that verifies the release's current revision through its Service (or, for a
    canary analysis, through `service` under the LoadTest name `name`)."""
    release_name = release["metadata"]["name"]
    spec = release_spec(release.get("spec", {}))
    revision = revision_of(spec["template"])
    test = spec["loadTest"]
    lt_spec: dict[str, Any] = {
        "target": {"service": service or spec["service"]["name"], "port": spec["service"].get("port", 80)},
        "image": test.get("image", ""),
        "users": test["users"],
        "spawnRate": test["spawnRate"],
        "runTimeSeconds": test["runTimeSeconds"],
        "workers": test["workers"],
        "thresholds": copy.deepcopy(test["thresholds"]),
        "activeDeadlineSeconds": test["activeDeadlineSeconds"],
    }
    for optional in ("locustfile", "tokenSecretRef", "env"):
        if optional in test:
            lt_spec[optional] = copy.deepcopy(test[optional])
    labels = {**release_labels(release_name), REVISION_LABEL: revision}
    return {
        "apiVersion": "rollguard.dev/v1alpha1",
        "kind": "LoadTest",
        "metadata": child_metadata(release, name or verification_name(release_name, revision), labels),
        "spec": lt_spec,
    }


def target_url(loadtest: Mapping[str, Any]) -> str:
    target = loadtest["spec"]["target"]
    if "url" in target:
        return str(target["url"])
    namespace = loadtest["metadata"].get("namespace", "default")
    return f"http://{target['service']}.{namespace}.svc:{target.get('port', 80)}"


def master_name(loadtest_name: str) -> str:
    return fit_name(f"{loadtest_name}-master")


def worker_name(loadtest_name: str) -> str:
    return fit_name(f"{loadtest_name}-worker")


def owning_release(loadtest: Mapping[str, Any]) -> str | None:
    """The name of the ApiRelease that controls this LoadTest, or None for a standalone one."""
    for ref in loadtest["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == "ApiRelease" and ref.get("controller"):
            return str(ref["name"])
    return None


def _labels(loadtest: Mapping[str, Any], role: str) -> dict[str, str]:
    """Locust pods carry their release's label, so that its NetworkPolicy can select exactly them."""
    labels = {
        "app.kubernetes.io/name": "locust",
        "app.kubernetes.io/managed-by": "rollguard",
        LOADTEST_LABEL: loadtest["metadata"]["name"],
        ROLE_LABEL: role,
    }
    if release := owning_release(loadtest):
        labels[RELEASE_LABEL] = release
    return labels


def _env(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "ROLLGUARD_P95_MS", "value": str(spec["thresholds"]["p95Ms"])},
        {"name": "ROLLGUARD_ERROR_RATE_PERCENT", "value": str(spec["thresholds"]["errorRatePercent"])},
        {"name": "ROLLGUARD_RESULTS_DIR", "value": RESULTS_DIR},
    ]
    if "tokenSecretRef" in spec:
        ref = spec["tokenSecretRef"]
        env.append(
            {
                "name": "ROLLGUARD_API_TOKENS",
                "valueFrom": {"secretKeyRef": {"name": ref["name"], "key": ref.get("key", "tokens")}},
            }
        )
    env.extend(copy.deepcopy(list(spec.get("env", []))))
    return env


def _locustfile_path(spec: Mapping[str, Any]) -> str:
    if "locustfile" in spec:
        return f"{LOCUSTFILE_DIR}/{spec['locustfile'].get('key', 'locustfile.py')}"
    return IMAGE_LOCUSTFILE


def _pod_spec(spec: Mapping[str, Any], command: list[str]) -> dict[str, Any]:
    mounts: list[dict[str, Any]] = [{"name": "results", "mountPath": RESULTS_DIR}]
    volumes: list[dict[str, Any]] = [{"name": "results", "emptyDir": {}}]
    if "locustfile" in spec:
        mounts.append({"name": "locustfile", "mountPath": LOCUSTFILE_DIR, "readOnly": True})
        volumes.append({"name": "locustfile", "configMap": {"name": spec["locustfile"]["configMapName"]}})
    return {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "locust",
                "image": spec["image"],
                "command": command,
                "env": _env(spec),
                "ports": [{"name": "master", "containerPort": MASTER_PORT}],
                "volumeMounts": mounts,
                # The threshold gate writes its JSON summary here; the operator reads it from the pod status.
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
        "volumes": volumes,
    }


def _job(
    loadtest: Mapping[str, Any], name: str, role: str, command: list[str], parallelism: int
) -> dict[str, Any]:
    spec = loadtest_spec(loadtest["spec"])
    labels = _labels(loadtest, role)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": child_metadata(loadtest, name, labels),
        "spec": {
            "backoffLimit": 0,
            "parallelism": parallelism,
            "completions": parallelism,
            "activeDeadlineSeconds": spec["activeDeadlineSeconds"],
            "ttlSecondsAfterFinished": JOB_TTL_SECONDS,
            "template": {"metadata": {"labels": labels}, "spec": _pod_spec(spec, command)},
        },
    }


def build_master_job(loadtest: Mapping[str, Any]) -> dict[str, Any]:
    """The Locust master: headless alone when `workers` is 0, otherwise it drives the workers."""
    spec = loadtest_spec(loadtest["spec"])
    command = [
        "locust",
        *headless_args(
            locustfile=_locustfile_path(spec),
            users=spec["users"],
            spawn_rate=spec["spawnRate"],
            run_time=f"{spec['runTimeSeconds']}s",
            host=target_url(loadtest),
        ),
        *master_args(spec["workers"]),
    ]
    return _job(loadtest, master_name(loadtest["metadata"]["name"]), "master", command, 1)


def build_worker_job(loadtest: Mapping[str, Any]) -> dict[str, Any]:
    spec = loadtest_spec(loadtest["spec"])
    name = loadtest["metadata"]["name"]
    command = ["locust", *worker_args(locustfile=_locustfile_path(spec), master_host=master_name(name))]
    return _job(loadtest, worker_name(name), "worker", command, spec["workers"])


def build_master_service(loadtest: Mapping[str, Any]) -> dict[str, Any]:
    """A headless Service through which the workers find the master."""
    name = loadtest["metadata"]["name"]
    labels = _labels(loadtest, "master")
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": child_metadata(loadtest, master_name(name), labels),
        "spec": {
            "clusterIP": "None",
            "selector": labels,
            # ZeroMQ, not HTTP: `appProtocol` says so to whatever proxies the port.
            "ports": [
                {"name": "master", "port": MASTER_PORT, "targetPort": MASTER_PORT, "appProtocol": "tcp"}
            ],
        },
    }
