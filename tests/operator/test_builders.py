"""The pure manifest builders: what a Deployment, a migration Job and the Locust Jobs must look like."""

from __future__ import annotations

import copy

import pytest

from rollguard.builders import (
    build_deployment,
    build_master_job,
    build_master_service,
    build_migration_job,
    build_verification_loadtest,
    build_worker_job,
    revision_of,
)

RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


@pytest.fixture
def release() -> dict:
    return {
        "apiVersion": "rollguard.dev/v1alpha1",
        "kind": "ApiRelease",
        "metadata": {"name": "claims-api", "namespace": "prod", "uid": "uid-1"},
        "spec": {
            "replicas": 3,
            "containerName": "api",
            "service": {"name": "claims-api", "port": 80},
            "template": {
                "metadata": {"labels": {"app": "claims-api"}},
                "spec": {
                    "serviceAccountName": "claims-api",
                    "securityContext": RESTRICTED_POD,
                    "containers": [
                        {"name": "proxy", "image": "envoy:1"},
                        {
                            "name": "api",
                            "image": "ghcr.io/rollguard/api:v7",
                            "env": [{"name": "DJANGO_ENV", "value": "production"}],
                            "envFrom": [{"secretRef": {"name": "claims-api-db"}}],
                            "securityContext": RESTRICTED_CONTAINER,
                            "readinessProbe": {"httpGet": {"path": "/health/ready", "port": "http"}},
                        },
                    ],
                },
            },
            "migrations": {"activeDeadlineSeconds": 900},
            "loadTest": {
                "enabled": True,
                "image": "ghcr.io/rollguard/loadtest:0.1.0",
                "workers": 2,
                "users": 20,
                "locustfile": {"configMapName": "claims-locust"},
                "tokenSecretRef": {"name": "claims-tokens"},
                "thresholds": {"p95Ms": 300, "errorRatePercent": 1},
            },
        },
    }


def owner_of(manifest: dict) -> dict:
    (owner,) = manifest["metadata"]["ownerReferences"]
    return owner


def test_the_deployment_never_takes_a_serving_pod_away_before_its_replacement_is_ready(release):
    deployment = build_deployment(release)

    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert deployment["metadata"]["name"] == "claims-api"
    assert deployment["spec"]["replicas"] == 3
    # Only the API pods: Locust and migration pods carry a role label and are not selected.
    assert deployment["spec"]["selector"] == {
        "matchLabels": {"rollguard.dev/release": "claims-api"},
        "matchExpressions": [{"key": "rollguard.dev/role", "operator": "DoesNotExist"}],
    }
    assert owner_of(deployment) == {
        "apiVersion": "rollguard.dev/v1alpha1",
        "kind": "ApiRelease",
        "name": "claims-api",
        "uid": "uid-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }


def test_the_deployment_pods_carry_the_revision_and_keep_the_template(release):
    template = build_deployment(release)["spec"]["template"]

    assert template["metadata"]["labels"]["rollguard.dev/revision"] == revision_of(
        release["spec"]["template"]
    )
    assert template["metadata"]["labels"]["app"] == "claims-api"
    assert template["spec"]["securityContext"] == RESTRICTED_POD
    assert template["spec"]["containers"][1]["readinessProbe"]["httpGet"]["path"] == "/health/ready"


def test_the_deployment_can_run_another_template_for_a_rollback(release):
    stable = copy.deepcopy(release["spec"]["template"])
    stable["spec"]["containers"][1]["image"] = "ghcr.io/rollguard/api:v6"

    deployment = build_deployment(release, stable)

    assert deployment["spec"]["template"]["spec"]["containers"][1]["image"] == "ghcr.io/rollguard/api:v6"
    assert deployment["spec"]["template"]["metadata"]["labels"]["rollguard.dev/revision"] == revision_of(
        stable
    )


def test_the_revision_is_a_stable_short_hash_of_the_template(release):
    template = release["spec"]["template"]
    changed = copy.deepcopy(template)
    changed["spec"]["containers"][1]["image"] = "ghcr.io/rollguard/api:v8"

    assert revision_of(template) == revision_of(copy.deepcopy(template))
    assert revision_of(template) != revision_of(changed)
    assert len(revision_of(template)) == 10


@pytest.mark.parametrize("phase", ["lint", "expand", "contract"])
def test_a_migration_job_runs_once_with_a_deadline_and_is_owned_by_the_release(release, phase):
    job = build_migration_job(release, phase)
    revision = revision_of(release["spec"]["template"])

    assert job["metadata"]["name"] == f"claims-api-{phase}-{revision}"
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 900
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert owner_of(job)["uid"] == "uid-1"
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["restartPolicy"] == "Never"
    assert container["command"] == ["python", "manage.py", "migrate_phase", phase, "--json"]
    assert container["image"] == "ghcr.io/rollguard/api:v7"
    assert container["envFrom"] == [{"secretRef": {"name": "claims-api-db"}}]


@pytest.mark.parametrize("phase", ["lint", "expand", "contract"])
def test_a_migration_job_keeps_the_restricted_security_context_and_drops_probes(release, phase):
    pod = build_migration_job(release, phase)["spec"]["template"]["spec"]

    assert pod["securityContext"] == RESTRICTED_POD
    assert pod["serviceAccountName"] == "claims-api"
    assert pod["containers"][0]["securityContext"] == RESTRICTED_CONTAINER
    assert "readinessProbe" not in pod["containers"][0]


def test_a_migration_job_needs_the_named_container(release):
    release["spec"]["containerName"] = "web"

    with pytest.raises(ValueError, match="no container 'web'"):
        build_migration_job(release, "lint")


def test_the_verification_loadtest_targets_the_release_service(release):
    loadtest = build_verification_loadtest(release)
    revision = revision_of(release["spec"]["template"])

    assert loadtest["metadata"]["name"] == f"claims-api-verify-{revision}"
    assert loadtest["spec"]["target"] == {"service": "claims-api", "port": 80}
    assert loadtest["spec"]["thresholds"] == {"p95Ms": 300, "errorRatePercent": 1}
    assert loadtest["spec"]["tokenSecretRef"] == {"name": "claims-tokens", "key": "tokens"}
    assert owner_of(loadtest)["kind"] == "ApiRelease"


@pytest.fixture
def loadtest(release) -> dict:
    built = build_verification_loadtest(release)
    built["kind"] = "LoadTest"
    built["metadata"]["uid"] = "lt-uid"
    return built


@pytest.mark.parametrize(("workers", "extra"), [(0, []), (2, ["--master", "--expect-workers", "2"])])
def test_the_master_runs_headless_and_drives_workers_when_asked(loadtest, workers, extra):
    loadtest["spec"]["workers"] = workers

    master = build_master_job(loadtest)

    command = master["spec"]["template"]["spec"]["containers"][0]["command"]
    host = "http://claims-api.prod.svc:80"
    assert command[:2] == ["locust", "-f"]
    assert command[command.index("--host") + 1] == host
    assert "--headless" in command
    assert "--only-summary" in command
    assert ("--master" in command) == bool(workers)
    assert command[len(command) - len(extra) :] == extra
    assert master["spec"]["backoffLimit"] == 0
    assert owner_of(master)["uid"] == "lt-uid"


def test_the_locust_pods_get_the_token_secret_thresholds_and_locustfile(loadtest):
    pod = build_master_job(loadtest)["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {item["name"]: item for item in container["env"]}

    assert env["ROLLGUARD_API_TOKENS"]["valueFrom"] == {
        "secretKeyRef": {"name": "claims-tokens", "key": "tokens"}
    }
    assert env["ROLLGUARD_P95_MS"]["value"] == "300"
    assert env["ROLLGUARD_ERROR_RATE_PERCENT"]["value"] == "1"
    assert "ROLLGUARD_RESULTS_DIR" in env
    assert {"name": "locustfile", "configMap": {"name": "claims-locust"}} in pod["volumes"]
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["command"][2] == "/mnt/locustfile/locustfile.py"


def test_workers_find_the_master_through_a_headless_service(loadtest):
    loadtest["spec"]["workers"] = 3

    worker = build_worker_job(loadtest)
    service = build_master_service(loadtest)

    command = worker["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[-2:] == ["--master-host", service["metadata"]["name"]]
    assert worker["spec"]["parallelism"] == 3
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"]["rollguard.dev/role"] == "master"


@pytest.mark.parametrize("build", [build_master_job, build_worker_job])
def test_locust_pods_of_a_verification_carry_their_release_label(loadtest, build):
    loadtest["spec"]["workers"] = 2

    labels = build(loadtest)["spec"]["template"]["metadata"]["labels"]

    assert labels["rollguard.dev/release"] == "claims-api"
    assert labels["app.kubernetes.io/name"] == "locust"


def test_locust_pods_of_a_standalone_load_test_name_no_release(loadtest):
    loadtest["metadata"]["ownerReferences"] = []
    loadtest["metadata"]["labels"] = {"rollguard.dev/release": "copied-by-hand"}

    labels = build_master_job(loadtest)["spec"]["template"]["metadata"]["labels"]

    assert "rollguard.dev/release" not in labels


@pytest.mark.parametrize("length", [20, 63, 64, 200])
def test_child_names_fit_a_dns_label_and_stay_distinct(length):
    from rollguard.builders.common import fit_name

    name = "r" * (length - 1) + "a"
    other = "r" * (length - 1) + "b"

    assert len(fit_name(name)) <= 63
    assert fit_name(name) == (name if length <= 63 else fit_name(name))
    assert fit_name(name) != fit_name(other)
