"""A release keeps a bounded history of its LoadTests (`spec.loadTest.historyLimit`)."""

from __future__ import annotations

import pytest

from rollguard.builders.spec import release_spec
from rollguard.planner.history import loadtests_to_prune


def loadtest(name: str, minute: int, phase: str | None = "Passed") -> dict:
    status = {"phase": phase, "observedGeneration": 1} if phase else {}
    return {
        "apiVersion": "rollguard.dev/v1alpha1",
        "metadata": {
            "name": name,
            "namespace": "claims",
            "generation": 1,
            "creationTimestamp": f"2026-12-02T04:{minute:02d}:00Z",
        },
        "status": status,
    }


def pruned(tests: list[dict], keep: int, current: str | None) -> list[str]:
    return [action.name for action in loadtests_to_prune(tests, keep=keep, current=current)]


def test_the_default_history_is_three():
    assert release_spec({})["loadTest"]["historyLimit"] == 3


def test_the_oldest_finished_ones_beyond_the_limit_go():
    tests = [loadtest(f"v{i}", i) for i in range(6)]

    assert sorted(pruned(tests, 3, "v5")) == ["v0", "v1", "v2"]


def test_within_the_limit_nothing_goes():
    assert pruned([loadtest("v0", 0), loadtest("v1", 1)], 3, "v1") == []


@pytest.mark.parametrize("phase", [None, "Pending", "Running"])
def test_an_unfinished_one_is_never_deleted_and_counts_against_the_limit(phase):
    tests = [loadtest("v0", 0, phase), loadtest("v1", 1), loadtest("v2", 2), loadtest("v3", 3)]

    assert sorted(pruned(tests, 2, "v3")) == ["v1", "v2"]


def test_the_current_revisions_test_stays_even_when_it_is_the_oldest():
    tests = [loadtest("v0", 0), loadtest("v1", 1), loadtest("v2", 2)]

    assert sorted(pruned(tests, 1, "v0")) == ["v1", "v2"]


def test_a_test_whose_new_generation_is_not_yet_judged_stays():
    rerun = loadtest("v0", 0)
    rerun["metadata"]["generation"] = 2

    assert pruned([rerun, loadtest("v1", 1)], 1, "v1") == []


def test_deletes_name_the_loadtest_in_its_namespace():
    [action] = loadtests_to_prune([loadtest("v0", 0), loadtest("v1", 1)], keep=1, current="v1")

    assert (action.verb, action.kind, action.namespace, action.name) == ("delete", "LoadTest", "claims", "v0")
