"""The rendered objects point at each other correctly: selectors, targets, hooks, RBAC."""

from __future__ import annotations

import pytest
from chart_render import CHARTS, label_selector_matches, pod_specs

import rollguard.builders
from rollguard import cli

pytestmark = pytest.mark.integration

API_PROFILES = [
    "claims-api-defaults",
    "claims-api-operator-disabled",
    "claims-api-ingress-hpa",
    "claims-api-plain-autoscaled",
]


def of_kind(docs, kind):
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs, kind, suffix=""):
    found = [doc for doc in of_kind(docs, kind) if doc["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, (
        f"expected one {kind} named *{suffix}, found {[d['metadata']['name'] for d in found]}"
    )
    return found[0]


def pod_labels(docs, builders=None):
    """name -> pod labels of every pod the profile would run, the operator's included."""
    labels = {}
    for doc in docs:
        if doc["kind"] == "Pod":
            labels[f"Pod/{doc['metadata']['name']}"] = doc["metadata"].get("labels", {})
        elif doc["kind"] in ("Deployment", "Job"):
            labels[f"{doc['kind']}/{doc['metadata']['name']}"] = doc["spec"]["template"]["metadata"]["labels"]
        elif doc["kind"] == "ApiRelease" and builders is not None:
            labels |= pod_labels([builders.build_deployment(doc)])
            labels |= pod_labels(
                [builders.build_migration_job(doc, phase) for phase in ("lint", "expand", "contract")]
            )
    return labels


@pytest.fixture(scope="module")
def builders():
    return rollguard.builders


@pytest.mark.parametrize("profile_id", API_PROFILES)
def test_the_service_pdb_and_policy_select_exactly_the_api_pods(rendered, builders, profile_id):
    docs = rendered[profile_id]
    fullname = one(docs, "Service")["metadata"]["name"]
    labels = pod_labels(docs, builders)
    selectors = {
        "Service": {"matchLabels": one(docs, "Service")["spec"]["selector"]},
        "PodDisruptionBudget": one(docs, "PodDisruptionBudget")["spec"]["selector"],
        "NetworkPolicy": one(docs, "NetworkPolicy", fullname)["spec"]["podSelector"],
    }

    for kind, selector in selectors.items():
        selected = {name for name, pod in labels.items() if label_selector_matches(selector, pod)}
        assert selected == {f"Deployment/{fullname}"}, f"{kind} selects {selected}"


@pytest.mark.parametrize("profile_id", ["claims-api-operator-disabled", "claims-api-plain-autoscaled"])
def test_the_plain_deployment_selects_its_own_pods(rendered, profile_id):
    deployment = one(rendered[profile_id], "Deployment")

    assert label_selector_matches(
        deployment["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"]
    )
    assert set(deployment["spec"]["selector"]["matchLabels"]) == {
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
    }
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


@pytest.mark.parametrize("profile_id", API_PROFILES)
def test_migration_pods_are_covered_by_the_migration_policy(rendered, builders, profile_id):
    docs = rendered[profile_id]
    policy = one(docs, "NetworkPolicy", "-migrations")["spec"]["podSelector"]
    labels = pod_labels(docs, builders)
    migration_pods = {
        name
        for name in labels
        if "-migrate-" in name or "-lint-" in name or "-expand-" in name or "-contract-" in name
    }

    assert migration_pods
    assert {name for name, pod in labels.items() if label_selector_matches(policy, pod)} == migration_pods


def locust_pod_labels(builders, release):
    """The labels of the master and worker pods of a release's verification LoadTest."""
    loadtest = builders.build_verification_loadtest(release)
    loadtest["spec"]["workers"] = 1
    return [
        build(loadtest)["spec"]["template"]["metadata"]["labels"]
        for build in (builders.build_master_job, builders.build_worker_job)
    ]


@pytest.mark.parametrize("profile_id", ["claims-api-defaults", "claims-api-ingress-hpa"])
def test_the_load_test_policy_selects_only_this_releases_locust_pods(rendered, builders, profile_id):
    docs = rendered[profile_id]
    release = one(docs, "ApiRelease")
    other = {**release, "metadata": {**release["metadata"], "name": "another-api"}}
    selector = one(docs, "NetworkPolicy", "-loadtest")["spec"]["podSelector"]
    peers = one(docs, "NetworkPolicy", release["metadata"]["name"])["spec"]["ingress"][0]["from"]
    same_namespace = [peer["podSelector"] for peer in peers if set(peer) == {"podSelector"}]

    for labels in locust_pod_labels(builders, release):
        assert label_selector_matches(selector, labels)
        assert any(label_selector_matches(peer, labels) for peer in same_namespace)
    for labels in locust_pod_labels(builders, other):
        assert not label_selector_matches(selector, labels)
        assert not any(label_selector_matches(peer, labels) for peer in same_namespace)


@pytest.mark.parametrize(
    ("profile_id", "target"),
    [("claims-api-ingress-hpa", "operator"), ("claims-api-plain-autoscaled", "rendered")],
)
def test_the_autoscaler_targets_the_deployment_that_runs_the_api(rendered, builders, profile_id, target):
    docs = rendered[profile_id]
    hpa = one(docs, "HorizontalPodAutoscaler")
    if target == "rendered":
        deployment = one(docs, "Deployment")
        assert "replicas" not in deployment["spec"]
    else:
        deployment = builders.build_deployment(one(docs, "ApiRelease"))
        assert one(docs, "ApiRelease")["spec"]["replicas"] == hpa["spec"]["minReplicas"]
        # The operator leaves the size of an existing Deployment to the HPA.
        assert one(docs, "ApiRelease")["spec"]["autoscaling"] is True

    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }


def test_the_api_release_carries_the_verification_profile(rendered):
    release = one(rendered["claims-api-defaults"], "ApiRelease")["spec"]
    assert "autoscaling" not in release
    container = release["template"]["spec"]["containers"][0]

    assert release["containerName"] == container["name"] == "api"
    assert release["service"]["name"] == one(rendered["claims-api-defaults"], "Service")["metadata"]["name"]
    assert release["loadTest"]["thresholds"] == {"p95Ms": 500, "errorRatePercent": 5}
    assert (
        release["loadTest"]["locustfile"]["configMapName"]
        == one(rendered["claims-api-defaults"], "ConfigMap", "-locustfile")["metadata"]["name"]
    )
    assert {
        probe: container[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
    } == {
        "startupProbe": "/health/startup",
        "livenessProbe": "/health/live",
        "readinessProbe": "/health/ready",
    }
    assert container["ports"] == [
        {"name": "http", "containerPort": 8000, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9100, "protocol": "TCP"},
    ]


def test_the_locustfile_config_map_embeds_the_chart_copy(rendered):
    config_map = one(rendered["claims-api-defaults"], "ConfigMap", "-locustfile")

    assert (
        config_map["data"]["locustfile.py"].strip()
        == (CHARTS / "claims-api" / "files" / "locustfile.py").read_text().strip()
    )


@pytest.mark.parametrize("profile_id", API_PROFILES)
def test_secrets_come_only_from_existing_secret_references(rendered, profile_id):
    docs = rendered[profile_id]

    assert of_kind(docs, "Secret") == []
    for doc in docs:
        for where, pod in pod_specs(doc):
            for container in pod["containers"]:
                env = {item["name"]: item for item in container.get("env", [])}
                for name in ("DATABASE_URL", "MIGRATION_DATABASE_URL", "DJANGO_SECRET_KEY"):
                    if name in env:
                        assert "value" not in env[name], f"{where} inlines {name}"
                        assert "secretKeyRef" in env[name]["valueFrom"]


@pytest.mark.parametrize("profile_id", API_PROFILES)
def test_the_application_and_the_owner_role_come_from_two_secrets(rendered, profile_id):
    for doc in rendered[profile_id]:
        for _, pod in pod_specs(doc):
            for container in pod["containers"]:
                env = {item["name"]: item for item in container.get("env", [])}
                if "DATABASE_URL" not in env:
                    continue
                refs = {
                    name: env[name]["valueFrom"]["secretKeyRef"]["name"]
                    for name in ("DATABASE_URL", "MIGRATION_DATABASE_URL")
                }
                assert refs == {
                    "DATABASE_URL": "claims-api-database",
                    "MIGRATION_DATABASE_URL": "claims-api-database-owner",
                }


def test_without_the_operator_helm_runs_expand_before_and_contract_after(rendered):
    jobs = {job["metadata"]["name"]: job for job in of_kind(rendered["claims-api-operator-disabled"], "Job")}
    expand, contract = jobs["billing-claims-api-migrate-expand"], jobs["billing-claims-api-migrate-contract"]

    assert expand["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert contract["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    for job, phase in ((expand, "expand"), (contract, "contract")):
        command = job["spec"]["template"]["spec"]["containers"][0]["command"]
        assert command == ["python", "manage.py", "migrate_phase", phase, "--json"]
        assert job["spec"]["backoffLimit"] == 0


def test_the_wait_job_may_only_get_and_watch_its_own_api_release(rendered):
    docs = rendered["claims-api-defaults"]
    role = one(docs, "Role", "-wait")
    job = one(docs, "Job", "-wait")

    assert role["rules"] == [
        {
            "apiGroups": ["rollguard.dev"],
            "resources": ["apireleases"],
            "resourceNames": ["billing-claims-api"],
            "verbs": ["get", "watch"],
        }
    ]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][:3] == [
        "rollguard",
        "wait",
        "apirelease/billing-claims-api",
    ]
    # `rollguard wait` reads the release and watches it by name (tests/operator/test_wait.py
    # records its requests against the emulator): exactly these two verbs.
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    for rbac in (role, one(docs, "RoleBinding", "-wait"), one(docs, "ServiceAccount", "-wait")):
        assert int(rbac["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
            job["metadata"]["annotations"]["helm.sh/hook-weight"]
        )


def test_the_wait_job_runs_a_command_the_real_cli_accepts(rendered):
    container = one(rendered["claims-api-defaults"], "Job", "-wait")["spec"]["template"]["spec"][
        "containers"
    ][0]
    program, *argv = container["command"]

    args = cli.build_parser().parse_args(argv)

    assert program == "rollguard"
    assert args.command == "wait"
    assert args.release == "apirelease/billing-claims-api"
    assert args.namespace == "billing"
    assert args.timeout == 600
    assert "args" not in container


def operator_rules(docs):
    return [rule for doc in docs if doc["kind"] in ("Role", "ClusterRole") for rule in doc["rules"]]


@pytest.mark.parametrize(
    "profile_id", ["rollguard-defaults", "rollguard-cluster-wide", "rollguard-namespaces-pinned"]
)
def test_the_operator_rbac_is_least_privilege(rendered, profile_id):
    rules = operator_rules(rendered[profile_id])

    assert rules
    for rule in rules:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule
        assert not {"secrets", "pods/exec", "roles", "rolebindings"} & set(rule["resources"]), rule
        if "configmaps" in rule["resources"]:  # the load test's locustfile: read, never written
            assert rule["verbs"] == ["get"], rule
        assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"]), rule


@pytest.mark.parametrize(
    ("profile_id", "roles", "cluster_roles"),
    [
        ("rollguard-defaults", {"rollguard-system"}, 0),
        ("rollguard-namespaces-pinned", {"billing", "billing-staging"}, 0),
        ("rollguard-cluster-wide", set(), 1),
    ],
)
def test_the_operator_is_namespaced_unless_asked_to_be_cluster_wide(
    rendered, profile_id, roles, cluster_roles
):
    docs = rendered[profile_id]
    args = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]

    assert {doc["metadata"]["namespace"] for doc in of_kind(docs, "Role")} == roles
    assert {doc["metadata"]["namespace"] for doc in of_kind(docs, "RoleBinding")} == roles
    assert len(of_kind(docs, "ClusterRole")) == len(of_kind(docs, "ClusterRoleBinding")) == cluster_roles
    if cluster_roles:
        assert "--all-namespaces" in args
    else:
        assert sorted(
            arg.removeprefix("--namespace=") for arg in args if arg.startswith("--namespace=")
        ) == sorted(roles)


def test_the_operator_runs_two_replicas_one_leading_with_liveness_and_metrics(rendered):
    docs = rendered["rollguard-defaults"]
    deployment = one(docs, "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    service = one(docs, "Service", "-metrics")
    budget = one(docs, "PodDisruptionBudget")

    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert "--leader-election-lease-duration=15" in container["args"]
    assert "--no-leader-elect" not in container["args"]
    assert any(env["name"] == "POD_NAME" for env in container["env"])
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )
    assert container["command"] == ["python", "-m", "rollguard"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "liveness"}
    assert {"name": "metrics", "containerPort": 9090, "protocol": "TCP"} in container["ports"]
    assert service["spec"]["ports"][0]["port"] == 9090
    assert label_selector_matches(
        {"matchLabels": service["spec"]["selector"]}, deployment["spec"]["template"]["metadata"]["labels"]
    )


@pytest.mark.parametrize("profile_id", ["rollguard-defaults", *API_PROFILES])
def test_every_label_set_carries_the_standard_labels(rendered, profile_id):
    for doc in rendered[profile_id]:
        if doc["kind"] == "CustomResourceDefinition":
            continue
        labels = doc["metadata"].get("labels", {})
        for key in (
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/managed-by",
            "helm.sh/chart",
        ):
            assert key in labels, f"{doc['kind']}/{doc['metadata']['name']} lacks {key}"


@pytest.mark.parametrize(
    ("profile_id", "namespaces", "all_namespaces"),
    [
        ("rollguard-defaults", ["rollguard-system"], False),
        ("rollguard-cluster-wide", [], True),
        ("rollguard-namespaces-pinned", ["billing", "billing-staging"], False),
    ],
)
def test_the_operator_command_line_parses_with_the_real_cli(rendered, profile_id, namespaces, all_namespaces):
    container = one(rendered[profile_id], "Deployment")["spec"]["template"]["spec"]["containers"][0]

    args = cli.build_parser().parse_args(container["args"])

    assert container["command"] == ["python", "-m", "rollguard"]
    assert args.command == "run"
    assert args.all_namespaces is all_namespaces
    assert args.liveness == "http://0.0.0.0:8080/healthz"
    assert cli.served_namespaces(args.namespace, None) == namespaces
