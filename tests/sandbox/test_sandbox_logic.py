"""The runtime's pure pieces: probes, back-off, rollout arithmetic, endpoints and container launch."""

from pathlib import Path

import pytest

from rollguard_sandbox.backoff import crash_backoff, should_reset
from rollguard_sandbox.containers import (
    ContainerConfigError,
    Image,
    ImageMap,
    build_launch,
    container_env,
    rewrite_hosts,
    rewrite_paths,
    secret_text,
)
from rollguard_sandbox.endpoints import PodEndpoints, RoundRobin, ready_endpoints, selector_matches
from rollguard_sandbox.probes import Probe, ProbeTracker, parse_probe
from rollguard_sandbox.scrape import ScrapedPod, file_sd_targets
from rollguard_sandbox.workloads import (
    PodView,
    RolloutCounts,
    deployment_status,
    plan_rollout,
    resolve_count,
    surge_limits,
    template_hash,
)

# -- probes ---------------------------------------------------------------


def test_parse_probe_fills_kubernetes_defaults():
    probe = parse_probe({"httpGet": {"path": "/health/ready", "port": "http"}})
    assert probe == Probe(action="http", port="http", path="/health/ready")
    assert (probe.period, probe.timeout, probe.failure_threshold, probe.success_threshold) == (10, 1, 3, 1)


def test_parse_probe_rejects_a_probe_without_an_action():
    with pytest.raises(ValueError, match="unsupported probe"):
        parse_probe({"periodSeconds": 1})


@pytest.mark.parametrize(
    ("kind", "results", "verdicts"),
    [
        ("readiness", [], []),
        ("readiness", [True], [True]),
        ("readiness", [True, False, False], [True, True, True]),
        ("readiness", [True, False, False, False], [True, True, True, False]),
        ("liveness", [False, False], [True, True]),
        ("liveness", [False, False, False], [True, True, False]),
        ("liveness", [False, False, True, False, False], [True, True, True, True, True]),
    ],
)
def test_probe_verdict_flips_only_at_the_thresholds(kind, results, verdicts):
    tracker = ProbeTracker(Probe(action="http", failure_threshold=3), kind, started_at=0.0)
    assert tracker.passed is (kind != "readiness")
    seen = []
    for step, ok in enumerate(results):
        tracker.record(ok, now=float(step))
        seen.append(tracker.passed)
    assert seen == verdicts


def test_success_threshold_needs_consecutive_successes():
    tracker = ProbeTracker(Probe(action="tcp", success_threshold=2), "readiness", started_at=0.0)
    tracker.record(True, 1.0)
    tracker.record(False, 2.0)
    tracker.record(True, 3.0)
    assert not tracker.passed
    assert tracker.record(True, 4.0) is True
    assert tracker.passed


def test_probe_waits_for_initial_delay_then_every_period():
    tracker = ProbeTracker(Probe(action="tcp", initial_delay=5, period=2), "readiness", started_at=100.0)
    assert not tracker.due(104.9)
    assert tracker.due(105.0)
    tracker.record(True, 105.0)
    assert not tracker.due(106.5)
    assert tracker.due(107.0)


def test_only_liveness_and_startup_failures_restart():
    for kind, restarts in (("readiness", False), ("liveness", True), ("startup", True)):
        tracker = ProbeTracker(Probe(action="tcp", failure_threshold=1), kind, started_at=0.0)
        tracker.record(False, 1.0)
        assert tracker.failed_for_good is restarts


# -- back-off -------------------------------------------------------------


@pytest.mark.parametrize(("restarts", "seconds"), [(0, 10), (1, 20), (2, 40), (4, 160), (5, 300), (50, 300)])
def test_crash_backoff_doubles_up_to_five_minutes(restarts, seconds):
    assert crash_backoff(restarts) == seconds


def test_crash_backoff_scales_with_the_base():
    assert [crash_backoff(n, base=0.5, cap=3) for n in range(4)] == [0.5, 1, 2, 3]


def test_crash_backoff_rejects_negative_counts():
    with pytest.raises(ValueError, match="restart_count"):
        crash_backoff(-1)


def test_backoff_resets_after_ten_minutes_of_running():
    assert not should_reset(599)
    assert should_reset(600)


# -- rollout --------------------------------------------------------------


def pods(revision, ready, *, start=0):
    return [
        PodView(f"{revision}-{start + i}", revision, ready=r, created=float(start + i))
        for i, r in enumerate(ready)
    ]


@pytest.mark.parametrize(
    ("value", "desired", "round_up", "count"),
    [
        (None, 4, True, 1),
        (None, 4, False, 1),
        ("25%", 2, True, 1),
        ("25%", 2, False, 0),
        (3, 2, True, 3),
        ("2", 5, False, 2),
    ],
)
def test_int_or_percent_resolves_like_kubernetes(value, desired, round_up, count):
    assert resolve_count(value, desired, default="25%", round_up=round_up) == count


def test_surge_limits_never_both_zero():
    assert surge_limits({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}, 2) == (1, 0)
    assert surge_limits({"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}, 2) == (1, 0)


def test_first_rollout_creates_all_pods():
    assert plan_rollout(desired=2, max_surge=1, max_unavailable=0, revision="b", pods=[]).create == 2


def test_rollout_surges_one_and_keeps_every_old_pod_until_a_new_one_is_ready():
    step = plan_rollout(desired=2, max_surge=1, max_unavailable=0, revision="b", pods=pods("a", [True, True]))
    assert step.create == 1
    assert step.delete == ()
    waiting = pods("a", [True, True]) + pods("b", [False], start=5)
    step = plan_rollout(desired=2, max_surge=1, max_unavailable=0, revision="b", pods=waiting)
    assert (step.create, step.delete) == (0, ())


def test_a_ready_new_pod_replaces_the_oldest_old_pod():
    current = pods("a", [True, True]) + pods("b", [True], start=5)
    step = plan_rollout(desired=2, max_surge=1, max_unavailable=0, revision="b", pods=current)
    assert step.delete == ("a-0",)
    assert step.create == 1


def test_old_pods_that_are_not_ready_go_at_once():
    current = pods("a", [True, False]) + pods("b", [False], start=5)
    step = plan_rollout(desired=2, max_surge=1, max_unavailable=0, revision="b", pods=current)
    assert step.delete == ("a-1",)


def test_rolling_back_removes_the_broken_pods_and_keeps_the_stable_ones():
    current = pods("stable", [True, True]) + pods("broken", [False], start=5)
    step = plan_rollout(desired=2, max_surge=1, max_unavailable=0, revision="stable", pods=current)
    assert step == type(step)(create=0, delete=("broken-5",))


def test_terminating_pods_count_for_nothing():
    current = [PodView("a-0", "a", ready=True, terminating=True), *pods("a", [True], start=1)]
    assert plan_rollout(desired=2, max_surge=1, max_unavailable=0, revision="a", pods=current).create == 1


def test_scale_down_removes_the_not_ready_and_newest_first():
    current = pods("a", [True, True, False])
    assert plan_rollout(desired=2, max_surge=1, max_unavailable=0, revision="a", pods=current).delete == (
        "a-2",
    )


def test_max_unavailable_lets_old_pods_go_before_replacements_are_ready():
    step = plan_rollout(desired=4, max_surge=0, max_unavailable=1, revision="b", pods=pods("a", [True] * 4))
    assert step.delete == ("a-0",)
    assert step.create == 1


def status_for(counts, *, since=0.0, deadline=600.0, desired=2):
    return deployment_status(
        name="api",
        desired=desired,
        max_unavailable=0,
        counts=counts,
        generation=3,
        seconds_since_progress=since,
        progress_deadline=deadline,
        progress_stamp="2026-01-01T00:00:00Z",
    )


def condition(status, kind):
    return next(c for c in status["conditions"] if c["type"] == kind)


def test_complete_rollout_reports_new_replica_set_available():
    status = status_for(RolloutCounts(replicas=2, updated=2, ready=2, old=0))
    assert (status["observedGeneration"], status["readyReplicas"], status["availableReplicas"]) == (3, 2, 2)
    assert condition(status, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert condition(status, "Available")["status"] == "True"


def test_stuck_rollout_exceeds_its_progress_deadline_while_old_pods_keep_it_available():
    counts = RolloutCounts(replicas=3, updated=1, ready=2, old=2)
    assert condition(status_for(counts, since=5, deadline=10), "Progressing")["reason"] == "ReplicaSetUpdated"
    stuck = status_for(counts, since=11, deadline=10)
    assert condition(stuck, "Progressing") | {"status": "False", "reason": "ProgressDeadlineExceeded"} == (
        condition(stuck, "Progressing")
    )
    assert condition(stuck, "Available")["status"] == "True"
    assert stuck["updatedReplicas"] == 1


def test_counts_ignore_terminating_pods():
    current = [
        *pods("a", [True]),
        PodView("b-0", "b", ready=True),
        PodView("a-9", "a", ready=True, terminating=True),
    ]
    assert RolloutCounts.of(current, "b") == RolloutCounts(replicas=2, updated=1, ready=2, old=1)


def test_template_hash_is_stable_and_sensitive_to_changes():
    template = {"spec": {"containers": [{"name": "api", "image": "a:1"}]}}
    assert template_hash(template) == template_hash(
        {"spec": {"containers": [{"image": "a:1", "name": "api"}]}}
    )
    assert template_hash(template) != template_hash(
        {"spec": {"containers": [{"name": "api", "image": "a:2"}]}}
    )


# -- endpoints ------------------------------------------------------------


def endpoint_pod(name, *, ready=True, terminating=False, labels=None):
    return PodEndpoints(
        name=name,
        labels=labels or {"app": "api"},
        ready=ready,
        terminating=terminating,
        ports={"http": 9000 + int(name[-1]), "8000": 9000 + int(name[-1])},
    )


def test_endpoints_are_only_ready_pods_that_are_not_terminating():
    found = ready_endpoints(
        {"app": "api"},
        "http",
        [
            endpoint_pod("p1"),
            endpoint_pod("p2", ready=False),
            endpoint_pod("p3", terminating=True),
            endpoint_pod("p4", labels={"app": "other"}),
            endpoint_pod("p5"),
        ],
    )
    assert [(e.pod, e.port) for e in found] == [("p1", 9001), ("p5", 9005)]


def test_endpoints_resolve_numeric_target_ports():
    assert [e.port for e in ready_endpoints({"app": "api"}, 8000, [endpoint_pod("p1")])] == [9001]


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({"a": "1"}, {"a": "1", "b": "2"}, True),
        ({"a": "1", "b": "3"}, {"a": "1", "b": "2"}, False),
        ({}, {"a": "1"}, False),
    ],
)
def test_selector_matching(selector, labels, matches):
    assert selector_matches(selector, labels) is matches


def test_round_robin_spreads_over_the_current_endpoints():
    balancer = RoundRobin()
    endpoints = ready_endpoints({"app": "api"}, "http", [endpoint_pod("p1"), endpoint_pod("p2")])
    assert [balancer.pick(endpoints).pod for _ in range(4)] == ["p1", "p2", "p1", "p2"]
    assert balancer.pick([]) is None


# -- container launch -----------------------------------------------------

HOSTS = {"claims-api:80": "127.0.0.1:4100", "claims-api": "127.0.0.1:4100", "postgres": "127.0.0.1:5999"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://claims-api:80", "http://127.0.0.1:4100"),
        ("http://claims-api/health", "http://127.0.0.1:4100/health"),
        ("postgresql://app:pw@postgres:5432/claims", "postgresql://app:pw@127.0.0.1:5999/claims"),
        ("postgresql://app:pw@127.0.0.1:1/claims", "postgresql://app:pw@127.0.0.1:1/claims"),
        ("claims-api", "claims-api"),
        ("http://claims-api-other:80", "http://claims-api-other:80"),
    ],
)
def test_rewrite_hosts_only_touches_known_hosts_in_urls(text, expected):
    assert rewrite_hosts(text, HOSTS) == expected


def test_rewrite_paths_replaces_whole_path_segments():
    paths = {"/mnt/locust": Path("/tmp/v"), "/app": Path("/src/service")}
    assert rewrite_paths("-f /mnt/locust/locustfile.py", paths) == "-f /tmp/v/locustfile.py"
    assert rewrite_paths("/app2/x /app", paths) == "/app2/x /src/service"


def lookup(kind, name):
    objects = {
        ("Secret", "db"): secret_text({"url": "cG9zdGdyZXNxbDovL3Bvc3RncmVzL2NsYWltcw=="}, None),
        ("ConfigMap", "settings"): {"LOG_LEVEL": "debug", "MODE": "x"},
    }
    return objects.get((kind, name))


def test_env_resolves_refs_in_kubernetes_order():
    container = {
        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CM_"}],
        "env": [
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "GREETING", "value": "hi $(POD)"},
            {
                "name": "MAYBE",
                "valueFrom": {"secretKeyRef": {"name": "absent", "key": "k", "optional": True}},
            },
        ],
    }
    env = container_env(container, {"metadata": {"name": "api-1"}}, lookup)
    assert env == {
        "CM_LOG_LEVEL": "debug",
        "CM_MODE": "x",
        "DATABASE_URL": "postgresql://postgres/claims",
        "POD": "api-1",
        "GREETING": "hi api-1",
    }


def test_field_refs_resolve_a_label_and_an_annotation_of_the_pod():
    pod = {
        "metadata": {
            "name": "api-1",
            "labels": {"rollguard.dev/revision": "abc123"},
            "annotations": {"note": "x"},
        }
    }
    container = {
        "env": [
            {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}
            for name, path in (
                ("REVISION", "metadata.labels['rollguard.dev/revision']"),
                ("NOTE", "metadata.annotations['note']"),
                ("ABSENT", "metadata.labels['absent']"),
                ("IP", "status.podIP"),
            )
        ]
    }
    env = container_env(container, pod, lookup)
    assert env == {"REVISION": "abc123", "NOTE": "x", "ABSENT": "", "IP": "127.0.0.1"}


def test_the_metrics_port_is_the_local_port_of_the_port_named_metrics(tmp_path):
    api = {
        "name": "api",
        "ports": [{"name": "http", "containerPort": 8000}, {"name": "metrics", "containerPort": 9100}],
        "env": [{"name": "METRICS_PORT", "value": "9100"}],
        "command": ["gunicorn"],
    }
    spec = build_launch(
        api,
        pod={},
        image=Image(workdir=tmp_path),
        lookup=lookup,
        ports={"http": 4321, "8000": 4321, "metrics": 4322, "9100": 4322},
        mounts={},
        hosts={},
        termination_log=tmp_path / "api.log",
        base_env={},
    )
    assert (spec.env["PORT"], spec.env["METRICS_PORT"]) == ("4321", "4322")
    without = {**api, "ports": api["ports"][:1]}
    spec = build_launch(
        without,
        pod={},
        image=Image(workdir=tmp_path),
        lookup=lookup,
        ports={"http": 4321, "8000": 4321},
        mounts={},
        hosts={},
        termination_log=tmp_path / "api.log",
        base_env={},
    )
    assert spec.env["METRICS_PORT"] == "9100"  # no port of that name: the pod's own value stays


def test_missing_secret_is_a_container_config_error():
    container = {"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "k"}}}]}
    with pytest.raises(ContainerConfigError, match='secret "absent"'):
        container_env(container, {}, lookup)


def test_build_launch_maps_image_ports_hosts_and_mounts(tmp_path):
    images = ImageMap(
        rules=(("loadtest", Image(workdir=tmp_path / "loadtest")),),
        default=Image(
            workdir=tmp_path / "service", entrypoint=("gunicorn", "-c", "gunicorn.conf.py", "config.wsgi")
        ),
    )
    api = {
        "name": "api",
        "image": "ghcr.io/rollguard/claims-api:1",
        "ports": [{"name": "http", "containerPort": 8000}],
        "env": [{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}],
    }
    spec = build_launch(
        api,
        pod={},
        image=images.resolve(api["image"]),
        lookup=lookup,
        ports={"http": 4321, "8000": 4321},
        mounts={},
        hosts=HOSTS,
        termination_log=tmp_path / "api.log",
        base_env={"PATH": "/venv/bin"},
    )
    assert spec.argv == ("gunicorn", "-c", "gunicorn.conf.py", "config.wsgi")
    assert spec.cwd == tmp_path / "service"
    assert spec.env["PORT"] == "4321"
    assert spec.env["HOST"] == "127.0.0.1"
    assert spec.env["DATABASE_URL"] == "postgresql://127.0.0.1:5999/claims"
    assert spec.env["PATH"] == "/venv/bin"

    master = {
        "name": "master",
        "image": "ghcr.io/rollguard/loadtest:0.1.0",
        "command": ["locust", "-f", "/mnt/locust/locustfile.py", "--host", "http://claims-api:80"],
        "terminationMessagePath": "/dev/termination-log",
    }
    spec = build_launch(
        master,
        pod={},
        image=images.resolve(master["image"]),
        lookup=lookup,
        ports={},
        mounts={"/mnt/locust": tmp_path / "vol"},
        hosts=HOSTS,
        termination_log=tmp_path / "master.log",
        base_env={},
    )
    assert spec.argv == ("locust", "-f", f"{tmp_path}/vol/locustfile.py", "--host", "http://127.0.0.1:4100")
    assert spec.cwd == tmp_path / "loadtest"
    assert spec.env["ROLLGUARD_TERMINATION_LOG"] == str(tmp_path / "master.log")
    assert "PORT" not in spec.env


def test_a_container_without_any_command_cannot_start(tmp_path):
    with pytest.raises(ContainerConfigError, match="no command"):
        build_launch(
            {"name": "x", "image": "y"},
            pod={},
            image=Image(workdir=tmp_path),
            lookup=lookup,
            ports={},
            mounts={},
            hosts={},
            termination_log=tmp_path / "t",
            base_env={},
        )


# -- Prometheus' file-based discovery --------------------------------------
def test_file_sd_lists_each_pod_with_a_metrics_port_labelled_by_revision():
    pods = [
        ScrapedPod("default", "claims-api-b", {"rollguard.dev/revision": "r2"}, {"http": 1, "metrics": 2}),
        ScrapedPod("default", "claims-api-a", {"rollguard.dev/revision": "r1"}, {"http": 3, "metrics": 4}),
        ScrapedPod("default", "claims-api-lint-x", {}, {}),  # a Job's pod serves no metrics
    ]
    assert file_sd_targets(pods) == [
        {
            "targets": ["127.0.0.1:4"],
            "labels": {"namespace": "default", "pod": "claims-api-a", "revision": "r1"},
        },
        {
            "targets": ["127.0.0.1:2"],
            "labels": {"namespace": "default", "pod": "claims-api-b", "revision": "r2"},
        },
    ]
