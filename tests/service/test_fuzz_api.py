"""A short schemathesis run inside the suite; `make fuzz-api` runs the long one."""

from __future__ import annotations

import pytest
from fuzz_api import fuzz

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(postgres_url, tmp_path):
    result = fuzz(postgres_url, max_time=20, report_dir=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
