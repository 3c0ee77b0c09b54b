"""The benchmarked endpoints written the naive DRF way, to count the queries they would cost.

`python -m rollguard_loadtest.bench.naive` (cwd `service/`, `DATABASE_URL` set) prints one
JSON object `{user_class: queries}`. The views use the stock parts a first DRF
implementation reaches for: knox's `TokenAuthentication` (with its per-request
sweep of expired tokens), the membership and customer read lazily,
`ModelSerializer` fields that follow foreign keys row by row (no
`select_related`), page-number pagination with its COUNT, a summary that asks
the database once per payer and figure, and a claim number taken with MAX().
They serve the same data as the real endpoints; only their query shape differs.
Each view runs once in-process on the benchmark's database, inside
`CaptureQueriesContext`; savepoints are not counted (pg_stat_statements does
not count them for the real endpoints either).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any


def _count_queries(view: Any, request: Any, expected: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = view(request)
        response.render()
    if response.status_code != expected:
        raise RuntimeError(
            f"naive {view.__name__} answered {response.status_code}: {response.content[:300]!r}"
        )
    statements = [q["sql"] for q in captured.captured_queries]
    return sum(1 for sql in statements if not sql.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")))


def naive_queries() -> dict[str, int]:
    import django

    django.setup()
    from django.db.models import Max, Sum
    from knox.auth import TokenAuthentication
    from knox.models import AuthToken
    from rest_framework import generics, serializers
    from rest_framework.pagination import PageNumberPagination
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    from billing.api.filters import ClaimFilter
    from billing.models import AuditEvent, Claim, Customer, Membership, Patient, Payer

    class NaiveClaimSerializer(serializers.ModelSerializer):
        patient_name = serializers.SerializerMethodField()
        payer_name = serializers.CharField(source="payer.name", read_only=True)

        class Meta:
            model = Claim
            fields = (
                "id",
                "number",
                "patient",
                "patient_name",
                "payer",
                "payer_name",
                "billed_amount",
                "paid_amount",
                "service_date",
                "status",
                "created_at",
                "updated_at",
            )
            read_only_fields = ("id", "number", "paid_amount", "status", "created_at", "updated_at")

        def get_patient_name(self, claim: Claim) -> str:
            return f"{claim.patient.first_name} {claim.patient.last_name}"

    class NaiveMixin:
        authentication_classes = [TokenAuthentication]
        permission_classes = [IsAuthenticated]

        def customer(self) -> Customer:
            return Membership.objects.get(user=self.request.user).customer  # type: ignore[attr-defined]

        def audit(self, action: str, object_id: object = "") -> None:
            AuditEvent.objects.create(
                actor=self.request.user,  # type: ignore[attr-defined]
                customer=self.customer(),
                action=action,
                object_type="claim",
                object_id=str(object_id),
            )

    class NaiveClaimList(NaiveMixin, generics.ListCreateAPIView):
        serializer_class = NaiveClaimSerializer
        pagination_class = PageNumberPagination
        filterset_class = ClaimFilter

        def get_queryset(self) -> Any:
            return Claim.objects.filter(customer=self.customer()).order_by("-number")

        def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
            response = super().list(request, *args, **kwargs)
            self.audit("list")
            return response

        def perform_create(self, serializer: Any) -> None:
            customer = self.customer()
            last = Claim.objects.filter(customer=customer).aggregate(m=Max("number"))["m"] or 0
            claim = serializer.save(customer=customer, number=last + 1)
            self.audit("create", claim.pk)

    class NaivePayerSummary(NaiveMixin, APIView):
        def get(self, request: Any) -> Response:
            customer = self.customer()
            rows = []
            for payer in Payer.objects.order_by("name"):
                claims = Claim.objects.filter(customer=customer, payer=payer)
                count = claims.count()
                if not count:
                    continue
                denied = claims.filter(status="denied").count()
                rows.append(
                    {
                        "payer": payer.pk,
                        "payer_code": payer.code,
                        "payer_name": payer.name,
                        "claim_count": count,
                        "denied_count": denied,
                        "billed_total": str(claims.aggregate(s=Sum("billed_amount"))["s"]),
                        "paid_total": str(claims.aggregate(s=Sum("paid_amount"))["s"]),
                        "denial_rate": denied / count,
                    }
                )
            return Response({"count": len(rows), "results": rows})

    customer = Customer.objects.order_by("id").first()
    if customer is None:
        raise RuntimeError("the benchmark database has no tenant: seed it first")
    membership = Membership.objects.filter(customer=customer, role="admin").select_related("user").first()
    assert membership is not None, "seed_demo gives every tenant an admin"
    _, token = AuthToken.objects.create(user=membership.user)
    headers = {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_HOST": "localhost"}
    factory = APIRequestFactory()
    payer = Payer.objects.filter(is_active=True).order_by("id").first()
    patient = Patient.objects.filter(customer=customer).order_by("id").first()
    assert payer is not None, "seed_demo gives every tenant active payers"
    assert patient is not None, "seed_demo gives every tenant patients"
    today = dt.date.today()
    window = {
        "status": "paid",
        "payer": payer.pk,
        "service_date_after": (today - dt.timedelta(days=90)).isoformat(),
        "service_date_before": today.isoformat(),
        "page_size": 25,
    }
    payload = {
        "patient": patient.pk,
        "payer": payer.pk,
        "billed_amount": "120.00",
        "service_date": (today - dt.timedelta(days=3)).isoformat(),
    }
    listing = NaiveClaimList.as_view()
    return {
        "LiveProbe": 0,
        "ClaimListing": _count_queries(listing, factory.get("/naive/claims/", window, **headers), 200),
        "PayerSummary": _count_queries(
            NaivePayerSummary.as_view(), factory.get("/naive/summary/", **headers), 200
        ),
        "ClaimCreation": _count_queries(
            listing, factory.post("/naive/claims/", payload, format="json", **headers), 201
        ),
    }


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    print(json.dumps(naive_queries()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
