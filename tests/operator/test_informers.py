"""The watch-fed cache: what it selects, which state wins, whom a change wakes."""

from __future__ import annotations

import pytest

from rollguard.informers import LOADTESTS, MASTER_PODS, RELEASE_PODS, RELEASES, Informer


def obj(name: str, version: int, labels: dict | None = None, **fields) -> dict:
    meta = {"name": name, "namespace": "claims", "resourceVersion": str(version), "labels": labels or {}}
    return {"metadata": meta, **fields}


def informer(source, woken: list) -> Informer:
    return Informer(None, source, "claims", woken.append)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("labels", "selected"),
    [
        ({"rollguard.dev/loadtest": "t", "rollguard.dev/role": "master"}, True),
        ({"rollguard.dev/loadtest": "t", "rollguard.dev/role": "worker"}, False),
        ({"rollguard.dev/role": "master"}, False),
    ],
)
def test_the_client_side_check_matches_the_server_side_selector(labels, selected):
    assert MASTER_PODS.selects(obj("p", 1, labels)) is selected


def test_an_answer_older_than_the_held_state_is_ignored():
    cache = informer(RELEASE_PODS, [])
    cache.put(obj("p", 9, {"rollguard.dev/release": "api"}, status={"phase": "Running"}))

    cache.put(obj("p", 7, {"rollguard.dev/release": "api"}, status={"phase": "Pending"}))

    assert cache.get("p")["status"]["phase"] == "Running"


def test_objects_are_found_by_their_owner_and_move_with_their_label():
    cache = informer(RELEASE_PODS, [])
    cache.put(obj("p", 1, {"rollguard.dev/release": "a"}))
    cache.put(obj("p", 2, {"rollguard.dev/release": "b"}))

    assert cache.owned_by("a") == []
    assert [pod["metadata"]["name"] for pod in cache.owned_by("b")] == ["p"]

    cache.put(obj("p", 3, {}))  # no longer selected
    assert cache.get("p") is None
    assert cache.owned_by("b") == []


def test_a_status_write_does_not_wake_the_release_itself_but_a_spec_change_does():
    woken: list = []
    cache = informer(RELEASES, woken)
    cache._event({"type": "ADDED", "object": obj("api", 1, spec={"replicas": 2})})
    woken.clear()

    cache._event(
        {"type": "MODIFIED", "object": obj("api", 2, spec={"replicas": 2}, status={"phase": "Linting"})}
    )
    assert woken == []

    cache._event({"type": "MODIFIED", "object": obj("api", 3, spec={"replicas": 3})})
    assert woken == [("ApiRelease", "claims", "api")]


def test_a_loadtest_status_change_wakes_the_release_that_owns_it():
    woken: list = []
    cache = informer(LOADTESTS, woken)
    test = obj("api-verify-1", 1, {"rollguard.dev/release": "api"}, spec={})
    cache._event({"type": "ADDED", "object": test})
    woken.clear()

    cache._event({"type": "MODIFIED", "object": {**test, "status": {"phase": "Passed"}}})

    assert woken == [("ApiRelease", "claims", "api")]


def test_a_deleted_child_wakes_its_owner_and_leaves_the_cache():
    woken: list = []
    cache = informer(RELEASE_PODS, woken)
    pod = obj("p", 1, {"rollguard.dev/release": "api"})
    cache._event({"type": "ADDED", "object": pod})

    cache._event({"type": "DELETED", "object": pod})

    assert cache.get("p") is None
    assert woken == [("ApiRelease", "claims", "api")] * 2


def test_a_410_in_the_stream_asks_for_a_new_list():
    cache = informer(RELEASE_PODS, [])

    assert cache._event({"type": "ERROR", "object": {"code": 410}}) is False
