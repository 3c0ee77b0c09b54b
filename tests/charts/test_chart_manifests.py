"""Every rendered document is valid for the Kubernetes API that would receive it.

Built-in kinds go through kubernetes-validate --strict; ApiRelease and
LoadTest documents through the CRDs' own schemas (unknown fields rejected).
The Deployment, migration Jobs and LoadTest the operator would build from
the chart's ApiRelease are checked the same way, so chart and operator agree.
"""

from __future__ import annotations

import jsonschema
import kubernetes_validate
import pytest
from chart_render import (
    CHARTS,
    KUBERNETES_VERSIONS,
    PROFILES,
    REPO,
    crd_schemas,
    describe,
    is_custom_resource,
    load_crds,
)

import rollguard.builders

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def custom_schemas():
    crds = load_crds(REPO / "manifests" / "crds") or load_crds(CHARTS / "rollguard" / "crds")
    assert crds, "no CRDs in manifests/crds/ or charts/rollguard/crds/"
    return crd_schemas(crds)


@pytest.fixture(scope="session")
def builders():
    return rollguard.builders


def kubernetes_errors(docs, version):
    errors = []
    for doc in docs:
        if is_custom_resource(doc):
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{describe(doc)}: {error.message} at {'/'.join(map(str, error.path))}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(f"{describe(doc)}: {error}")
    return errors


def custom_errors(docs, schemas):
    errors = []
    for doc in docs:
        if not is_custom_resource(doc):
            continue
        schema = schemas.get((doc["apiVersion"], doc["kind"]))
        if schema is None:
            errors.append(f"{describe(doc)}: no CRD serves {doc['apiVersion']} {doc['kind']}")
            continue
        # The CRD schemas are OpenAPI v3.0 (boolean exclusiveMinimum), which Draft 4 reads.
        for error in jsonschema.Draft4Validator(schema).iter_errors(doc):
            errors.append(f"{describe(doc)}: {error.message} at {'/'.join(map(str, error.path))}")
    return errors


def api_releases(docs):
    return [doc for doc in docs if doc.get("kind") == "ApiRelease"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.id)
def test_rendered_documents_validate_strictly_against_kubernetes(rendered, profile, version):
    docs = rendered[profile.id]

    assert docs, f"{profile.id} rendered nothing"
    assert kubernetes_errors(docs, version) == []


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.id)
def test_custom_resources_validate_against_the_crd_schemas(rendered, custom_schemas, profile):
    assert custom_errors(rendered[profile.id], custom_schemas) == []


def test_the_operator_chart_renders_its_crds(rendered, custom_schemas):
    kinds = {
        doc["spec"]["names"]["kind"]
        for doc in rendered["rollguard-defaults"]
        if doc["kind"] == "CustomResourceDefinition"
    }

    assert kinds == {kind for _, kind in custom_schemas}


def test_the_operator_mode_renders_an_api_release_and_no_deployment(rendered):
    kinds = [doc["kind"] for doc in rendered["claims-api-defaults"]]

    assert kinds.count("ApiRelease") == 1
    assert "Deployment" not in kinds


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(
    "profile", [p for p in PROFILES if p.chart == "claims-api"], ids=lambda profile: profile.id
)
def test_what_the_operator_builds_from_the_api_release_is_valid(
    rendered, builders, custom_schemas, profile, version
):
    built = []
    for release in api_releases(rendered[profile.id]):
        release = {
            **release,
            "metadata": {**release["metadata"], "uid": "00000000-0000-0000-0000-000000000001"},
        }
        built.append(builders.build_deployment(release))
        if hasattr(builders, "build_migration_job"):
            built += [
                builders.build_migration_job(release, phase) for phase in ("lint", "expand", "contract")
            ]
        if hasattr(builders, "build_verification_loadtest") and release["spec"]["loadTest"]["enabled"]:
            built.append(builders.build_verification_loadtest(release))

    assert kubernetes_errors(built, version) == []
    assert custom_errors(built, custom_schemas) == []
