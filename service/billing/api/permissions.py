"""Who may do what: members read their tenant's data; billers and admins write it."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from billing.models import Customer, Membership, Role


def membership_of(request: Request) -> Membership | None:
    return getattr(request.user, "membership", None) if request.user.is_authenticated else None


def tenant_of(request: Request) -> Customer:
    membership = membership_of(request)
    assert membership is not None, "tenant_of() needs a request that IsTenantMember has let through"
    return membership.customer


class IsTenantMember(BasePermission):
    message = "This login belongs to no customer; ask an administrator to add it to one."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return membership_of(request) is not None


class CanWriteOrReadOnly(BasePermission):
    message = "Your role may read but not change data; ask an administrator for the biller role."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        membership = membership_of(request)
        return membership is not None and membership.can_write


class IsTenantAdmin(BasePermission):
    message = "Only a customer's administrators may read its audit trail."

    def has_permission(self, request: Request, view: APIView) -> bool:
        membership = membership_of(request)
        return membership is not None and membership.role == Role.ADMIN
