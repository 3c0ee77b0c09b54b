"""The story's inputs and evidence: release steps with overrides, and which Job applied which migration."""

import json

import pytest

from rollguard_sandbox.builds import api_image, materialize, migration_file
from rollguard_sandbox.checkout import PACKAGE_DIR, Checkout
from rollguard_sandbox.database import migration_jobs, migration_reports
from rollguard_sandbox.demo import Options, deep_merge, story_steps
from rollguard_sandbox.story import Build, expand_values, load_builds, load_story

ROLLUP_LINE = {"0006_claim_rollup", "0007_claim_rollup_backfill", "0011_claim_rollup_row_security"}


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


def test_the_default_story_has_three_successes_then_four_rollbacks_two_of_broken_builds(tmp_path):
    steps = story_steps(Options(results=tmp_path))
    assert [step.expect for step in steps] == ["Succeeded"] * 3 + ["RolledBack"] * 4
    assert [step.name for step in steps if step.broken_build] == ["broken-endpoint", "broken-endpoint-canary"]
    assert (PACKAGE_DIR / "values.yaml").exists()


def test_release_1_runs_without_the_rollup_and_release_2_ships_it(tmp_path):
    steps = story_steps(Options(results=tmp_path))
    builds = load_builds(PACKAGE_DIR / "story.yaml")
    assert [step.build for step in steps] == ["before-rollup"] + [""] * 6
    assert steps[1].name == "payer-summary-rollup"
    assert steps[1].afterwards == ("rollup_check",)
    left_out = builds["before-rollup"].without_migrations
    assert {label.partition(".")[2] for label in left_out} == set(ROLLUP_LINE)
    tags = [(step.values.get("image") or {}).get("tag") for step in steps]
    assert len(set(tags)) == len(tags)  # each release's image tag is its own


def test_a_build_is_the_service_without_its_migrations(tmp_path):
    build = load_builds(PACKAGE_DIR / "story.yaml")["before-rollup"]
    service = Checkout.find().service
    folder = materialize(build, service, tmp_path)
    kept = {path.name for path in (folder / "billing" / "migrations").glob("0*.py")}
    assert kept == {path.name for path in (service / "billing" / "migrations").glob("0*.py")} - {
        f"{name}.py" for name in ROLLUP_LINE
    }
    assert (folder / "manage.py").read_text() == (service / "manage.py").read_text()
    assert not list(folder.rglob("__pycache__"))
    assert materialize(build, service, tmp_path) == folder  # once per run


def test_a_build_that_names_a_missing_migration_is_refused(tmp_path):
    with pytest.raises(ValueError, match="does not have"):
        materialize(Build("x", ("billing.9999_nothing",)), Checkout.find().service, tmp_path)
    with pytest.raises(ValueError, match="not a migration label"):
        migration_file("billing")


def test_a_release_naming_an_unknown_build_or_command_is_refused(tmp_path):
    story = tmp_path / "story.yaml"
    story.write_text("releases: [{name: a, expect: Succeeded, build: nope}]\n")
    with pytest.raises(ValueError, match="names build 'nope'"):
        load_story(story)
    story.write_text("releases: [{name: a, expect: Succeeded, afterwards: [flush]}]\n")
    with pytest.raises(ValueError, match="flush"):
        load_story(story)


def test_the_image_of_a_build_runs_from_its_folder_and_others_from_the_checkout(tmp_path):
    checkout = Checkout.find()
    images = checkout.images(builds={"ghcr.io/rollguard/claims-api:0.1.0": tmp_path})
    assert images.resolve("ghcr.io/rollguard/claims-api:0.1.0").workdir == tmp_path
    assert images.resolve("ghcr.io/rollguard/claims-api:0.2.0").workdir == checkout.service
    assert images.resolve("ghcr.io/rollguard/claims-api-loadtest:0.1.0").workdir == checkout.loadtest
    manifests = [
        {
            "kind": "ApiRelease",
            "spec": {
                "containerName": "api",
                "template": {
                    "spec": {
                        "containers": [{"name": "sidecar", "image": "x"}, {"name": "api", "image": "y:1"}]
                    }
                },
            },
        }
    ]
    assert api_image(manifests) == "y:1"


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
    assert migration_reports(tmp_path, "claims-api")["billing.0001_initial"] == {
        "job": "expand-abc123",
        "seconds": None,
    }
