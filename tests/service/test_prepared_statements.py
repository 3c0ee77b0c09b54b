"""The request path's fixed statements are prepared once per connection; filtered lists are not."""

from __future__ import annotations

import pytest
from django.db import connection

from config import prepared

pytestmark = pytest.mark.integration


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_fixed_statements_are_prepared_and_the_claim_page_is_not(acme):
    assert prepared.enabled()
    for _ in range(2):
        response = acme.client.get("/api/v2/claims/?status=submitted")
        assert response.status_code == 200, response.json()
    statements = _prepared_statements()
    assert any("billing_ratecounter" in sql for sql in statements), statements
    assert any('INSERT INTO "billing_auditevent"' in sql for sql in statements), statements
    assert any("token_key" in sql for sql in statements), statements
    # The page is planned for its values each time (config.prepared says why).
    assert not any("ORDER BY" in sql and "billing_claim" in sql for sql in statements), statements


def test_a_prepared_statement_is_reused_not_prepared_again(acme):
    acme.client.get("/api/v2/claims/")
    before = len(_prepared_statements())
    assert before > 0
    acme.client.get("/api/v2/claims/")
    assert len(_prepared_statements()) == before
