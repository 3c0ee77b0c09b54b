"""KMock's Kubernetes emulator with the API-server semantics an operator relies on.

`kmock.KubernetesEmulator` stores objects and streams their changes. A real API
server also keeps `metadata.generation` (bumped by spec changes only),
`resourceVersion`, `uid` and `creationTimestamp`; filters lists and watches by
label and field selectors; separates the `status` subresource from the main
resource; resumes watches from a resourceVersion (or answers 410 Gone); refuses
stale writes with 409; and garbage-collects the children of a deleted owner.
This subclass adds all of that, plus scripted faults for tests.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import datetime
import secrets
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import attrs
import jsonpatch
import kmock
from aiohttp import web

from rollguard_emulator import validation
from rollguard_emulator.faults import Fault
from rollguard_emulator.kmockbase import KmockEmulator, merge_patch
from rollguard_emulator.rbac import Binding, blocking_owners, grants_of
from rollguard_emulator.selectors import Predicate, field_selector, label_selector
from rollguard_emulator.taps import Tap

Key = tuple[kmock.resource, str | None, str]
_CLOSE = None  # the sentinel that ends one watch stream


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _conflict(message: str) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=409, reason="Conflict", message=message, details={})


def _invalid(kind: str, name: str, found: list[str]) -> kmock.KubernetesError:
    message = f'{kind} "{name}" is invalid: ' + "; ".join(found)
    return kmock.KubernetesError(status=422, reason="Invalid", message=message, details={})


def _forbidden(message: str) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=403, reason="Forbidden", message=message, details={})


@dataclass
class _Watch:
    resource: kmock.resource
    namespace: str | None
    matches: Predicate
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)


@attrs.define(kw_only=True)
class RollguardEmulator(KmockEmulator):
    """The emulator as an API server: `async with RollguardEmulator() as api, kmock.Server(api) as srv`."""

    history_limit: int = 4
    event_log_limit: int = 5000
    request_log_limit: int = 200

    _resource_version: int = attrs.field(default=0, init=False)
    _write_lock: asyncio.Lock = attrs.field(factory=asyncio.Lock, init=False)
    _event_log: collections.deque[tuple[int, kmock.resource, dict[str, Any]]] = attrs.field(init=False)
    _log_floor: int = attrs.field(default=0, init=False)
    _watches: list[_Watch] = attrs.field(factory=list, init=False)
    _faults: list[Fault] = attrs.field(factory=list, init=False)
    _taps: list[Tap] = attrs.field(factory=list, init=False)
    # Bearer token -> the Role bound to that identity; requests without such a token are unrestricted.
    _bindings: dict[str, Binding] = attrs.field(factory=dict, init=False)
    # How many times each (plural, namespace, name) was created: get-or-create must keep this at 1.
    created: collections.Counter[tuple[str, str | None, str]] = attrs.field(
        factory=collections.Counter, init=False
    )

    # Who did what, as RBAC sees it: (user agent, verb, API group, resource[/subresource]).
    audit: collections.Counter[tuple[str, str, str, str]] = attrs.field(
        factory=collections.Counter, init=False
    )
    # The same per bearer token, so that tests tell two clients with one user agent apart.
    audit_by_token: collections.Counter[tuple[str, str, str]] = attrs.field(
        factory=collections.Counter, init=False
    )
    # The keys of each resource's objects, so that a list or watch does not scan every object.
    _index: collections.defaultdict[kmock.resource, dict[Key, None]] = attrs.field(
        factory=lambda: collections.defaultdict(dict), init=False
    )
    # Owner uid -> the keys of the objects that named it in an ownerReference (checked again on use),
    # so that a cascading deletion does not scan every object.
    _children: collections.defaultdict[str, dict[Key, None]] = attrs.field(
        factory=lambda: collections.defaultdict(dict), init=False
    )
    _builtin_payloads: int = attrs.field(default=0, init=False)
    _direct: dict[kmock.action, kmock.Response] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self._event_log = collections.deque()
        self.resources.load_bundled()
        # kmock matches every request against every reaction by replaying its request log, which
        # grows without bound; while no reaction beyond the built-in ones is registered, requests
        # go straight to the built-in responses instead.
        self._builtin_payloads = self.reaction_count()
        self._direct = self.builtin_responses()

    # -- configuration -------------------------------------------------------

    def register_crd(self, crd: Mapping[str, Any]) -> None:
        """Serve a CustomResourceDefinition's resource, with its status subresource if declared."""
        spec = crd["spec"]
        names = spec["names"]
        for version in spec["versions"]:
            self.resources[f"{spec['group']}/{version['name']}/{names['plural']}"] = kmock.ResourceInfo(
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                kind=names["kind"],
                singular=names.get("singular", names["kind"].lower()),
                verbs={"create", "delete", "get", "list", "patch", "update", "watch"},
                shortnames=set(names.get("shortNames", [])),
                categories=set(names.get("categories", [])),
                subresources={"status"} if "status" in version.get("subresources", {}) else set(),
            )

    def register_crds(self, crds: Iterable[Mapping[str, Any]]) -> None:
        for crd in crds:
            self.register_crd(crd)

    def inject_fault(
        self,
        status: int,
        *,
        action: str | None = None,
        plural: str | None = None,
        subresource: str | None = None,
        times: int = 1,
        retry_after: float | None = None,
    ) -> Fault:
        """Answer the next `times` matching requests with HTTP `status` (actions: LIST, UPDATE, ...),
        with a `Retry-After` header when `retry_after` is given."""
        fault = Fault(
            status=status,
            action=action,
            plural=plural,
            subresource=subresource,
            times=times,
            retry_after=retry_after,
        )
        self._faults.append(fault)
        return fault

    def tap(
        self,
        *,
        action: str | None = None,
        plural: str | None = None,
        subresource: str | None = None,
        when: Any = None,
        hold: bool = False,
    ) -> Tap:
        """Count the matching writes (`when(body)` filters on the request body); with `hold`, store
        each one but keep its response back until `tap.release()`."""
        tap = Tap(action=action, plural=plural, subresource=subresource, when=when, hold=hold)
        self._taps.append(tap)
        return tap

    def enforce_rbac(
        self,
        token: str,
        rules: Iterable[Mapping[str, Any]],
        *,
        namespace: str | None,
        user: str = "system:serviceaccount:rollguard:rollguard-operator",
    ) -> None:
        """Authorize every request bearing `token` with these Role (or, namespace None, ClusterRole)
        rules: anything they do not grant is 403 Forbidden."""
        self._bindings[token] = Binding(token, user, namespace, tuple(grants_of(rules)))

    def drop_watches(self) -> int:
        """Close every open watch stream, as a restarting API server or a broken proxy would."""
        for watch in self._watches:
            watch.queue.put_nowait(_CLOSE)
        return len(self._watches)

    def forget_events(self) -> None:
        """Drop the event log, so that watches resumed from an old resourceVersion get 410 Gone."""
        self._log_floor = self._resource_version
        self._event_log.clear()

    # -- reading state for tests and the sandbox -----------------------------

    def read(self, plural_or_key: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The stored object, e.g. `read("apps/v1/deployments", "ns", "api")`, or None."""
        key = (kmock.resource(plural_or_key), namespace, name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        return copy.deepcopy(self.objects[key].raw)

    def read_all(self, plural_or_key: str, namespace: str | None = None) -> list[dict[str, Any]]:
        wanted = kmock.resource(plural_or_key)
        return [
            copy.deepcopy(obj.raw)
            for (res, ns, _), obj in self.objects.items()
            if res == wanted and not obj.deleted and (namespace is None or ns == namespace)
        ]

    # -- request handling ----------------------------------------------------

    async def serve_request(self, request: kmock.Request) -> Any:
        self.trim_request_log(self.request_log_limit)
        if request.resource is None or request.action is None or not request.resource.plural:
            return await self.route(request)
        action = request.action.value
        verb = {"FETCH": "get", "UPDATE": "patch"}.get(action, action.lower())
        resource = request.resource.plural + (f"/{request.subresource}" if request.subresource else "")
        agent = request.headers.get("User-Agent", "").split("/")[0]
        self.audit[(agent, verb, request.resource.group or "", resource)] += 1
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        self.audit_by_token[(token, verb, resource)] += 1
        self._authorize(request, verb, resource)
        for fault in self._faults:
            if fault.matches(action, request.resource.plural, request.subresource):
                fault.hits += 1
                raise fault.error()
        if request.action in (kmock.action.CREATE, kmock.action.UPDATE, kmock.action.DELETE):
            async with self._write_lock:
                self._write(request)
            await self._tapped(request, action)
        if self.reaction_count() == self._builtin_payloads and request.action in self._direct:
            return await self._direct[request.action](request)
        # Skip KubernetesEmulator's own write logic (replaced above); keep its routing and reads.
        return await self.route(request)

    async def error_response(self, exc: Exception, response: web.StreamResponse) -> web.StreamResponse:
        details = exc.details if isinstance(exc, kmock.KubernetesError) else None
        if isinstance(details, Mapping) and details.get("retryAfterSeconds"):
            response.headers["Retry-After"] = f"{details['retryAfterSeconds']:g}"
        return response

    def _authorize(self, request: kmock.Request, verb: str, resource: str) -> None:
        assert request.resource is not None
        header = request.headers.get("Authorization", "")
        binding = self._bindings.get(header.removeprefix("Bearer ").strip()) if header else None
        if binding is None:
            return
        group = request.resource.group or ""
        if not binding.allows(verb, group, resource, request.namespace, request.name):
            raise _forbidden(binding.refusal(verb, group, resource, request.namespace, request.name))
        if request.action is kmock.action.CREATE and isinstance(request.data, Mapping):
            for ref in blocking_owners(request.data):
                owner_group = ref.get("apiVersion", "").rpartition("/")[0]
                plural = self._plural_of(owner_group, ref.get("kind", ""))
                if not binding.allows("update", owner_group, f"{plural}/finalizers", request.namespace, None):
                    raise _forbidden(
                        f"{request.resource.plural} is forbidden: cannot set blockOwnerDeletion if an "
                        f"ownerReference refers to a resource you can't set finalizers on: "
                        f'User "{binding.user}" cannot update resource "{plural}/finalizers" '
                        f'in API group "{owner_group}" in the namespace "{request.namespace}"'
                    )

    def _plural_of(self, group: str, kind: str) -> str:
        for resource, info in self.resources.items():
            if (
                isinstance(resource, kmock.resource)
                and (resource.group or "") == group
                and getattr(info, "kind", None) == kind
            ):
                return resource.plural or kind.lower() + "s"
        return kind.lower() + "s"

    async def _tapped(self, request: kmock.Request, action: str) -> None:
        assert request.resource is not None
        for tap in list(self._taps):
            if tap.matches(action, request.resource.plural, request.subresource, request.data):
                tap.hits += 1
                tap.reached.set()
                if tap.hold:
                    await tap.released.wait()

    def _validate(
        self, resource: kmock.resource, body: Mapping[str, Any], old: Mapping[str, Any] | None
    ) -> None:
        found = validation.problems(resource.plural or "", body, old)
        if found:
            info = self.resources.get(resource, None)
            kind = str(getattr(info, "kind", None) or resource.plural)
            raise _invalid(kind, str(body.get("metadata", {}).get("name", "")), found)

    def _has_status(self, resource: kmock.resource) -> bool:
        return resource in self.resources and "status" in self.resources[resource].subresources

    def _next_version(self) -> str:
        self._resource_version += 1
        return str(self._resource_version)

    def _write(self, request: kmock.Request) -> None:
        assert request.resource is not None
        if request.action == kmock.action.CREATE:
            self._create(request)
        elif request.action == kmock.action.UPDATE and request.name is not None:
            self._update(request)
        elif request.action == kmock.action.DELETE and request.name is not None:
            options = request.data if isinstance(request.data, Mapping) else {}
            orphan = options.get("propagationPolicy") == "Orphan"
            self._delete((request.resource, request.namespace, request.name), orphan=orphan)

    def _create(self, request: kmock.Request) -> None:
        assert request.resource is not None
        body = copy.deepcopy(request.data or {})
        meta = body.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(3)
        namespace = request.namespace or meta.get("namespace")
        key: Key = (request.resource, namespace, meta.get("name", ""))
        if key in self.objects and not self.objects[key].deleted:
            raise kmock.KubernetesError(
                status=409, reason="AlreadyExists", message=f"{key[2]!r} already exists", details={}
            )
        self._validate(request.resource, body, None)
        if namespace is not None:
            meta["namespace"] = namespace
        meta.update(
            uid=str(uuid.uuid4()),
            resourceVersion=self._next_version(),
            creationTimestamp=_now(),
            generation=1,
        )
        if self._has_status(request.resource):
            body.pop("status", None)
        if key in self.objects:
            self.objects[key].create(body)
        else:
            self.objects[key] = body
        self._index[request.resource][key] = None
        self._adopt(key, body)
        # Name the object in the request so that kmock's create response finds it.
        object.__setattr__(request, "name", key[2])
        object.__setattr__(request, "namespace", namespace)
        self.created[(request.resource.plural or "", namespace, key[2])] += 1
        self._publish(request.resource, "ADDED", body)

    def _update(self, request: kmock.Request) -> None:
        assert request.resource is not None
        assert request.name is not None
        key: Key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            raise kmock.KubernetesObjectNotFoundError()
        old = self.objects[key].raw
        patch = request.data
        if isinstance(patch, list):
            try:
                candidate = jsonpatch.apply_patch(copy.deepcopy(old), patch)
            except jsonpatch.JsonPatchTestFailed as exc:
                raise kmock.KubernetesError(
                    status=422, reason="Invalid", message=str(exc), details={}
                ) from exc
        else:
            wanted = (patch or {}).get("metadata", {}).get("resourceVersion")
            if wanted is not None and wanted != old["metadata"].get("resourceVersion"):
                raise _conflict(f"{request.name!r} was modified since resourceVersion {wanted}")
            candidate = merge_patch(copy.deepcopy(old), patch or {})
        new = self._apply_subresource_rules(request.resource, request.subresource, old, candidate)
        if new == old:
            return
        if request.subresource is None:
            self._validate(request.resource, new, old)
        new["metadata"]["resourceVersion"] = self._next_version()
        self._store(key, new)
        self._adopt(key, new)
        self._publish(request.resource, "MODIFIED", new)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            self._remove(key)

    def _apply_subresource_rules(
        self,
        resource: kmock.resource,
        subresource: str | None,
        old: dict[str, Any],
        candidate: dict[str, Any],
    ) -> dict[str, Any]:
        new = copy.deepcopy(old)
        if subresource == "status":
            if "status" in candidate:
                new["status"] = candidate["status"]
            else:
                new.pop("status", None)
            return new
        new = candidate
        if self._has_status(resource):
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        meta = new.setdefault("metadata", {})
        for immutable in ("uid", "creationTimestamp", "name", "namespace", "deletionTimestamp", "generation"):
            if immutable in old["metadata"]:
                meta[immutable] = old["metadata"][immutable]
            else:
                meta.pop(immutable, None)
        if new.get("spec") != old.get("spec"):
            meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        return new

    def _store(self, key: Key, body: dict[str, Any]) -> None:
        history = self.objects[key].history
        history.append(body)
        if len(history) > self.history_limit:
            del history[: len(history) - self.history_limit]

    def _delete(self, key: Key, *, orphan: bool = False) -> None:
        if key not in self.objects or self.objects[key].deleted:
            raise kmock.KubernetesObjectNotFoundError()
        current = self.objects[key].raw
        if current["metadata"].get("finalizers"):
            if not current["metadata"].get("deletionTimestamp"):
                marked = copy.deepcopy(current)
                marked["metadata"]["deletionTimestamp"] = _now()
                marked["metadata"]["resourceVersion"] = self._next_version()
                self._store(key, marked)
                self._publish(key[0], "MODIFIED", marked)
            return
        self._remove(key, orphan=orphan)

    def _remove(self, key: Key, *, orphan: bool = False) -> None:
        """Delete the object; its children go too unless `orphan` (propagationPolicy: Orphan)."""
        last = copy.deepcopy(self.objects[key].raw)
        last["metadata"]["resourceVersion"] = self._next_version()
        self._store(key, last)
        self.objects[key].delete()
        self._publish(key[0], "DELETED", last)
        if not orphan:
            self._collect_children(last["metadata"].get("uid"))

    def _adopt(self, key: Key, body: Mapping[str, Any]) -> None:
        for ref in body.get("metadata", {}).get("ownerReferences") or []:
            if ref.get("uid"):
                self._children[ref["uid"]][key] = None

    def _collect_children(self, owner_uid: str | None) -> None:
        """Background cascading deletion: the children of a deleted owner go too."""
        if not owner_uid:
            return
        self._index_preloaded(None)
        children = [
            key
            for key in self._children.pop(owner_uid, {})
            if key in self.objects
            and not self.objects[key].deleted
            and any(
                ref.get("uid") == owner_uid
                for ref in self.objects[key].raw.get("metadata", {}).get("ownerReferences", [])
            )
        ]
        for child in children:
            if child in self.objects and not self.objects[child].deleted:
                self._delete(child)

    def _publish(self, resource: kmock.resource, kind: str, body: Mapping[str, Any]) -> None:
        event = {"type": kind, "object": copy.deepcopy(dict(body))}
        self._event_log.append((self._resource_version, resource, event))
        while len(self._event_log) > self.event_log_limit:
            self._log_floor = self._event_log.popleft()[0]
        namespace = body.get("metadata", {}).get("namespace")
        for watch in self._watches:
            if watch.resource == resource and watch.namespace in (None, namespace) and watch.matches(body):
                watch.queue.put_nowait(event)

    # -- reads ---------------------------------------------------------------

    def _selected(self, request: kmock.Request) -> Predicate:
        try:
            by_label = label_selector(request.params.get("labelSelector"))
            by_field = field_selector(request.params.get("fieldSelector"))
        except ValueError as exc:
            raise kmock.KubernetesError(
                status=400, reason="BadRequest", message=str(exc), details={}
            ) from exc
        return lambda obj: by_label(obj) and by_field(obj)

    def _current(self, request: kmock.Request, matches: Predicate) -> list[dict[str, Any]]:
        assert request.resource is not None
        self._index_preloaded(request.resource)
        found = []
        for key in self._index[request.resource]:
            obj = self.objects[key]
            if (
                not obj.deleted
                and (request.namespace is None or key[1] == request.namespace)
                and matches(obj.raw)
            ):
                found.append(obj.raw)
        return found

    def _index_preloaded(self, resource: kmock.resource | None) -> None:
        """Index objects put into `objects` directly (as tests and the sandbox seed them)."""
        if len(self.objects) != sum(len(keys) for keys in self._index.values()):
            for key in self.objects:
                if key not in self._index[key[0]]:
                    self._index[key[0]][key] = None
                    if not self.objects[key].deleted:
                        self._adopt(key, self.objects[key].raw)

    async def serve_list(self, request: kmock.Request) -> kmock.Payload:
        if request.resource not in self.known_resources():
            raise kmock.KubernetesResourceNotFoundError()
        matches = self._selected(request)
        async with self._write_lock:
            items = copy.deepcopy(self._current(request, matches))
            version = str(self._resource_version)
        return {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": version}, "items": items}

    async def serve_watch(self, request: kmock.Request) -> AsyncIterator[kmock.Payload]:
        yield b""
        assert request.resource is not None
        matches = self._selected(request)
        since = request.params.get("resourceVersion")
        timeout = float(request.params["timeoutSeconds"]) if request.params.get("timeoutSeconds") else None
        watch = _Watch(resource=request.resource, namespace=request.namespace, matches=matches)
        async with self._write_lock:
            backlog = self._backlog(request, matches, since)
            self._watches.append(watch)
        try:
            for past in backlog:
                yield past
            if backlog and backlog[0]["type"] == "ERROR":
                return  # an API server closes the stream after 410 Gone
            if request.params.get("sendInitialEvents") == "true":
                yield {
                    "type": "BOOKMARK",
                    "object": {"metadata": {"resourceVersion": str(self._resource_version)}},
                }
            async with asyncio.timeout(timeout):
                while (change := await watch.queue.get()) is not _CLOSE:
                    yield change
        except TimeoutError:
            return
        finally:
            self._watches.remove(watch)

    def _backlog(self, request: kmock.Request, matches: Predicate, since: str | None) -> list[dict[str, Any]]:
        if since in (None, "", "0") or request.params.get("sendInitialEvents") == "true":
            return [
                {"type": "ADDED", "object": copy.deepcopy(obj)} for obj in self._current(request, matches)
            ]
        if int(since) < self._log_floor:
            gone = {
                "kind": "Status",
                "code": 410,
                "reason": "Expired",
                "message": f"too old resource version: {since}",
            }
            return [{"type": "ERROR", "object": gone}]
        return [
            event
            for version, resource, event in self._event_log
            if version > int(since)
            and resource == request.resource
            and request.namespace in (None, event["object"].get("metadata", {}).get("namespace"))
            and matches(event["object"])
        ]
