"""The story's inputs and evidence: release steps with overrides, and which Job applied which migration."""

import json

from rollguard_sandbox.checkout import PACKAGE_DIR
from rollguard_sandbox.database import migration_jobs
from rollguard_sandbox.demo import Options, deep_merge, story_steps
from rollguard_sandbox.story import expand_values


def test_deep_merge_keeps_siblings_and_replaces_leaves():
    base = {"config": {"logLevel": "INFO", "extraEnv": {"A": "1"}}, "image": {"tag": "1"}}
    merged = deep_merge(base, {"config": {"extraEnv": {"B": "2"}}, "image": {"tag": "2"}})
    assert merged == {"config": {"logLevel": "INFO", "extraEnv": {"A": "1", "B": "2"}}, "image": {"tag": "2"}}
    assert base["image"]["tag"] == "1"


def test_story_steps_apply_overrides_under_each_release_and_filter(tmp_path):
    steps = story_steps(Options(results=tmp_path, load_seconds=5, only=("initial", "crash-loop")))
    assert [step.name for step in steps] == ["initial", "crash-loop"]
    assert all(step.values["loadTest"]["runTimeSeconds"] == 5 for step in steps)
    assert steps[1].values["config"]["extraEnv"] == {"GUNICORN_CMD_ARGS": "--no-such-flag"}


def test_the_default_story_has_two_successes_then_four_rollbacks_two_of_broken_builds(tmp_path):
    steps = story_steps(Options(results=tmp_path))
    assert [step.expect for step in steps] == ["Succeeded", "Succeeded"] + ["RolledBack"] * 4
    assert [step.name for step in steps if step.broken_build] == ["broken-endpoint", "broken-endpoint-canary"]
    assert (PACKAGE_DIR / "values.yaml").exists()


def test_story_values_name_run_time_addresses_as_variables():
    values = {"a": ["$(PROMETHEUS_URL)/x", {"b": "$(OTHER)"}], "n": 4, "q": 'r="{{args.canaryRevision}}"'}
    assert expand_values(values, {"PROMETHEUS_URL": "http://127.0.0.1:1"}) == {
        "a": ["http://127.0.0.1:1/x", {"b": "$(OTHER)"}],
        "n": 4,
        "q": 'r="{{args.canaryRevision}}"',
    }


def test_migration_jobs_reads_the_last_json_line_of_each_migration_job_log(tmp_path):
    def job_log(pod, *lines):
        folder = tmp_path / pod
        folder.mkdir()
        (folder / "migrate.0.log").write_text("\n".join(lines) + "\n")

    applied = {"applied": [{"app": "billing", "name": "0001_initial", "phase": "expand"}]}
    job_log("claims-api-expand-abc123-1a2b3", "Applying billing.0001_initial...", json.dumps(applied))
    job_log(
        "claims-api-contract-abc123-4c5d6", json.dumps({"applied": [{"app": "billing", "name": "0002_drop"}]})
    )
    job_log("claims-api-lint-abc123-7e8f9", json.dumps({"applied": [{"app": "x", "name": "y"}]}))
    job_log("claims-api-abc123def0-1a2b3", "gunicorn output {not json")
    assert migration_jobs(tmp_path, "claims-api") == {
        "billing.0001_initial": "expand-abc123",
        "billing.0002_drop": "contract-abc123",
    }
