"""The payer-summary rollup stays equal to the claims through every write, bulk load and backfill."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from billing.demo import seed_claims, seed_patients
from billing.migrations._claim_rollup import backfill_batch, backfill_rollup
from billing.models import Claim, ClaimRollup
from billing.selectors.claims import payer_summary_reads_rollup
from billing.selectors.rollup import rollup_report

pytestmark = pytest.mark.integration


def _sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def assert_rollup_exact() -> None:
    report = rollup_report()
    assert report.backfilled
    assert report.differences == []


def test_every_api_write_keeps_the_rollup_exact(world):
    client = world.acme.client
    claim = world.acme_claim
    assert_rollup_exact()
    assert client.patch(f"/api/v1/claims/{claim.pk}/", {"payer": world.payers[1].pk}).status_code == 200
    assert client.patch(f"/api/v1/claims/{claim.pk}/", {"service_date": "2026-02-02"}).status_code == 200
    assert client.patch(f"/api/v1/claims/{claim.pk}/", {"billed_amount": "70.00"}).status_code == 200
    assert_rollup_exact()
    client.post(f"/api/v1/claims/{claim.pk}/transition/", {"status": "accepted"})
    client.post(f"/api/v1/claims/{claim.pk}/transition/", {"status": "paid", "paid_amount": "60.00"})
    assert_rollup_exact()
    other = world.globex_claim
    world.globex.client.post(f"/api/v1/claims/{other.pk}/transition/", {"status": "accepted"})
    world.globex.client.post(
        f"/api/v1/claims/{other.pk}/transition/", {"status": "denied", "denial_reason": "No"}
    )
    assert_rollup_exact()
    assert ClaimRollup.objects.get(customer=world.globex.customer).denied == 1
    assert world.globex.client.delete(f"/api/v1/claims/{other.pk}/").status_code == 400  # denied is final
    created = client.post(
        "/api/v1/claims/",
        {
            "patient": world.acme_patient.pk,
            "payer": world.payers[0].pk,
            "billed_amount": "5.00",
            "service_date": "2026-01-15",
        },
    ).json()
    assert client.delete(f"/api/v1/claims/{created['id']}/").status_code == 204
    assert_rollup_exact()
    moved = ClaimRollup.objects.get(customer=world.acme.customer, payer=world.payers[1], claims__gt=0)
    assert (moved.claims, moved.billed, moved.paid) == (1, 70, 60)


def test_a_bulk_load_is_counted_by_one_statement(acme, payers):
    patients = seed_patients(acme.customer, count=20)
    seed_claims(acme.customer, count=3000, patients=patients, payers=[p.pk for p in payers])
    assert_rollup_exact()
    assert sum(ClaimRollup.objects.values_list("claims", flat=True)) == 3000
    _sql("UPDATE billing_claim SET status = 'denied' WHERE number %% 3 = 0")
    _sql("DELETE FROM billing_claim WHERE number %% 7 = 0")
    assert_rollup_exact()


def test_rollup_check_passes_then_names_a_difference(acme, payers):
    seed_claims(
        acme.customer, count=50, patients=seed_patients(acme.customer, count=5), payers=[payers[0].pk]
    )
    out = io.StringIO()
    call_command("rollup_check", stdout=out)
    report = json.loads(out.getvalue().splitlines()[-1])
    assert report["ok"] is True
    assert report["differences"] == 0

    _sql(
        "UPDATE billing_claimrollup SET claims = claims + 1 "
        "WHERE id = (SELECT min(id) FROM billing_claimrollup)"
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="differs from the claims at 1 "):
        call_command("rollup_check", stdout=out)
    [example] = json.loads(out.getvalue().splitlines()[-1])["examples"]
    assert int(example["rollup"]["claims"]) == int(example["actual"]["claims"]) + 1


def _as_if_written_before_the_triggers() -> int:
    """Empty the rollup and mark every claim as the backfill's, as 0006 finds a populated table."""
    _sql("DELETE FROM billing_claimrollup")
    _sql(
        "UPDATE billing_claimrollup_backfill "
        "SET done_upto = 0, install_max = (SELECT max(id) FROM billing_claim)"
    )
    return Claim.objects.order_by("-id").values_list("id", flat=True)[0]


def test_rollup_check_refuses_an_unfinished_backfill(acme, payers):
    seed_claims(
        acme.customer, count=30, patients=seed_patients(acme.customer, count=5), payers=[payers[0].pk]
    )
    _as_if_written_before_the_triggers()
    with pytest.raises(CommandError, match="backfill stopped at claim id 0"):
        call_command("rollup_check", stdout=io.StringIO())


def test_the_backfill_counts_old_rows_once_whatever_writers_do_between_batches(acme, payers):
    patients = seed_patients(acme.customer, count=10)
    seed_claims(acme.customer, count=400, patients=patients, payers=[p.pk for p in payers[:2]])
    install_max = _as_if_written_before_the_triggers()
    first = Claim.objects.order_by("id").values_list("id", flat=True)[0]

    assert backfill_batch(connection, batch_size=100)
    # Rows already backfilled, rows still waiting, and rows the triggers saw arrive.
    _sql("UPDATE billing_claim SET status = 'denied' WHERE id < %s", [first + 50])
    _sql(
        "UPDATE billing_claim SET payer_id = %s WHERE id BETWEEN %s AND %s",
        [payers[1].pk, first + 90, first + 250],
    )
    _sql("DELETE FROM billing_claim WHERE id BETWEEN %s AND %s", [first + 300, first + 320])
    seed_claims(acme.customer, count=450, patients=patients, payers=[payers[0].pk])
    _sql("UPDATE billing_claim SET billed_amount = billed_amount + 1 WHERE id > %s", [install_max])
    assert rollup_report().differences  # the waiting rows are not counted yet

    assert backfill_rollup(connection, batch_size=100) > 0
    assert_rollup_exact()
    assert backfill_rollup(connection) == 0  # nothing twice
    assert_rollup_exact()


def _unapply_the_rollup() -> None:
    """Reverse 0011, 0007 and 0006 inside the test's transaction, which rolls them back after."""
    # The claims' deferred foreign-key checks would keep ALTER TABLE out of the transaction.
    _sql("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    nodes = executor.loader.graph.nodes
    line = ("0011_claim_rollup_row_security", "0007_claim_rollup_backfill", "0006_claim_rollup")
    executor.migrate(
        [("billing", "0010_roles_row_security")], plan=[(nodes[("billing", n)], True) for n in line]
    )


@pytest.fixture
def rollup_choice():
    """The summary's source is chosen once per process: forget it before and after the test."""
    payer_summary_reads_rollup.cache_clear()
    yield
    payer_summary_reads_rollup.cache_clear()


def test_below_the_rollup_the_summary_aggregates_the_claims_with_the_same_answer(world, rollup_choice):
    client = world.acme.client
    seed_claims(
        world.acme.customer,
        count=200,
        patients=seed_patients(world.acme.customer, count=5),
        payers=[p.pk for p in world.payers],
    )
    urls = ["/api/v1/payers/summary/", f"/api/v2/payers/summary/?payer={world.payers[1].pk}"]
    after, before = (datetime.date.today() - datetime.timedelta(days=days) for days in (200, 30))
    urls.append(f"/api/v1/payers/summary/?service_date_after={after}&service_date_before={before}")
    assert payer_summary_reads_rollup()
    from_rollup = [client.get(url).json() for url in urls]

    _unapply_the_rollup()
    payer_summary_reads_rollup.cache_clear()
    assert not payer_summary_reads_rollup()
    assert "billing_claimrollup" not in connection.introspection.table_names()
    with CaptureQueriesContext(connection) as captured:
        from_claims = [client.get(url).json() for url in urls]

    assert from_claims == from_rollup
    assert all(result["results"] for result in from_rollup)
    assert not any("billing_claimrollup" in q["sql"] for q in captured.captured_queries)
    assert sum("GROUP BY" in q["sql"] for q in captured.captured_queries) == len(urls)
