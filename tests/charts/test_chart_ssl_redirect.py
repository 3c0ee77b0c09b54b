"""The API chart keeps plain HTTP inside the cluster unredirected unless told otherwise.

DJANGO_ENV=production turns Django's SSL redirect on; TLS terminates at the
Ingress, so the chart renders DJANGO_SECURE_SSL_REDIRECT=false by default and
the in-cluster load test and the operator's recovery check get answers, not 301s.
"""

from __future__ import annotations

import pytest
import yaml
from chart_render import Profile, render

pytestmark = pytest.mark.integration


def config_data(helm_bin, tmp_path, values):
    docs = yaml.safe_load_all(
        render(helm_bin, Profile("ssl", "claims-api", "billing", "billing", values), tmp_path)
    )
    (workload,) = [d for d in docs if d and d["kind"] in {"ApiRelease", "Deployment"}]
    (api,) = workload["spec"]["template"]["spec"]["containers"]
    return {entry["name"]: entry["value"] for entry in api["env"] if "value" in entry}


def test_production_pods_do_not_redirect_plain_http_by_default(helm_bin, tmp_path):
    data = config_data(helm_bin, tmp_path, {})

    assert data["DJANGO_ENV"] == "production"
    assert data["DJANGO_SECURE_SSL_REDIRECT"] == "false"


def test_the_redirect_can_be_turned_on(helm_bin, tmp_path):
    assert (
        config_data(helm_bin, tmp_path, {"config": {"sslRedirect": True}})["DJANGO_SECURE_SSL_REDIRECT"]
        == "true"
    )
