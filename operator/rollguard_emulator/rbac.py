"""RBAC as the API server enforces it, for one identity: a bearer token bound to a Role's rules.

Every resource request carrying the token is checked against the rules; one
that no rule grants is answered 403, as with a real Role. Creating an object
whose ownerReference sets `blockOwnerDeletion: true` also needs `update` on the
owner's `finalizers` subresource (the OwnerReferencesPermissionEnforcement
admission plugin, on by default in most clusters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Grant:
    verb: str
    group: str
    resource: str
    names: frozenset[str]


def grants_of(rules: Iterable[Mapping[str, Any]]) -> list[Grant]:
    return [
        Grant(verb, group, resource, frozenset(rule.get("resourceNames") or []))
        for rule in rules
        for group in rule.get("apiGroups") or []
        for resource in rule.get("resources") or []
        for verb in rule.get("verbs") or []
    ]


@dataclass(frozen=True)
class Binding:
    """A Role's rules for the subject that presents `token`, in `namespace` (None: a ClusterRole)."""

    token: str
    user: str
    namespace: str | None
    grants: tuple[Grant, ...]

    def allows(self, verb: str, group: str, resource: str, namespace: str | None, name: str | None) -> bool:
        if self.namespace is not None and namespace != self.namespace:
            return False
        return any(
            grant.verb in (verb, "*")
            and grant.group in (group, "*")
            and grant.resource in (resource, "*")
            and (not grant.names or (name is not None and name in grant.names))
            for grant in self.grants
        )

    def refusal(self, verb: str, group: str, resource: str, namespace: str | None, name: str | None) -> str:
        what = f'{resource} "{name}"' if name else resource
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        return (
            f'{what} is forbidden: User "{self.user}" cannot {verb} resource "{resource}" '
            f'in API group "{group}"{where}'
        )


def blocking_owners(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ownerReferences of an object that set blockOwnerDeletion."""
    return [
        ref
        for ref in (body.get("metadata") or {}).get("ownerReferences") or []
        if ref.get("blockOwnerDeletion")
    ]
