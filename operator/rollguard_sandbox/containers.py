"""How a container of a pod template becomes a local process, or a podman container of a built image.

Pure: the caller passes in what it looked up (Secrets, ConfigMaps), the ports
it picked and the folders it made; nothing here touches the system.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TERMINATION_LOG = "/dev/termination-log"
TERMINATION_LOG_ENV = "ROLLGUARD_TERMINATION_LOG"

# (kind, name) -> the object's data as text, or None when it does not exist.
Lookup = Callable[[str, str], Mapping[str, str] | None]
# (argv, container port -> local port, in-cluster `name:port` -> local address) -> the argv to run.
Wiring = Callable[[Sequence[str], Mapping[str, int], Mapping[str, str]], list[str]]


class ContainerConfigError(Exception):
    """The pod references something that does not exist yet (CreateContainerConfigError)."""


@dataclass(frozen=True)
class Image:
    """Where an image's code lives in this checkout and what it runs without a command."""

    workdir: Path
    entrypoint: tuple[str, ...] = ()
    # Absolute paths inside the image that stand for folders of this checkout.
    paths: Mapping[str, Path] = field(default_factory=dict)
    # The built image (`make images`) that runs instead when pods run as containers.
    reference: str = ""
    # Rewrites the final command line where the program needs more than PORT and host names.
    wiring: Wiring | None = None


@dataclass(frozen=True)
class ImageMap:
    """Image references to checkout folders: the first rule whose text occurs in the image wins."""

    rules: Sequence[tuple[str, Image]]
    default: Image

    def resolve(self, image: str) -> Image:
        for needle, target in self.rules:
            if needle in image:
                return target
        return self.default


@dataclass(frozen=True)
class LaunchSpec:
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    termination_log: Path
    # Put before an exec probe's command: `podman exec <name>` for a container, nothing for a process.
    exec_prefix: tuple[str, ...] = ()


def secret_text(data: Mapping[str, str] | None, string_data: Mapping[str, str] | None) -> dict[str, str]:
    """A Secret's values as text: `data` is base64, `stringData` (as applied, not yet merged) is plain."""
    decoded = {key: base64.b64decode(value).decode() for key, value in (data or {}).items()}
    return decoded | dict(string_data or {})


_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand_vars(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: known names are replaced, unknown ones stay as they are."""
    return _VAR_REF.sub(lambda match: env.get(match.group(1), match.group(0)), text)


_URL_HOST = re.compile(r"(?P<prefix>@|//)(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*)(?::(?P<port>\d+))?")


def rewrite_hosts(text: str, hosts: Mapping[str, str]) -> str:
    """Point in-cluster host names (`claims-api:80`, `postgres`) at local addresses.

    `hosts` maps `name:port` or a bare `name` to a `host:port`; the more
    specific key wins. Only hosts after `//` or `@` change, so a path or a
    word that happens to equal a Service name is left alone.
    """

    def replace(match: re.Match[str]) -> str:
        host, port = match.group("host"), match.group("port")
        target = hosts.get(f"{host}:{port}") if port else None
        target = target or hosts.get(host)
        if target is None:
            return match.group(0)
        return match.group("prefix") + target

    return _URL_HOST.sub(replace, text)


def rewrite_paths(text: str, paths: Mapping[str, Path]) -> str:
    """Replace in-image absolute paths (mount paths, `/app`) by their local folders, longest first."""
    for image_path in sorted(paths, key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w/.-]){re.escape(image_path.rstrip('/'))}(?=/|$|[\s\"',;:=])")
        text = pattern.sub(str(paths[image_path]), text)
    return text


def _env_value(entry: Mapping[str, Any], pod: Mapping[str, Any], lookup: Lookup) -> str | None:
    if "value" in entry:
        return str(entry["value"])
    source = entry.get("valueFrom") or {}
    for ref_key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
        if ref := source.get(ref_key):
            data = lookup(kind, ref["name"])
            if data is None or ref["key"] not in data:
                if ref.get("optional"):
                    return None
                raise ContainerConfigError(f'{kind.lower()} "{ref["name"]}" has no key "{ref["key"]}"')
            return data[ref["key"]]
    if field_ref := source.get("fieldRef"):
        return field_value(str(field_ref.get("fieldPath", "")), pod)
    return ""


_MAP_FIELD = re.compile(r"metadata\.(labels|annotations)\['([^']+)'\]")


def field_value(path: str, pod: Mapping[str, Any]) -> str:
    """The downward API's `fieldRef`: name, namespace, IPs, node, and one label or annotation."""
    meta = pod.get("metadata") or {}
    if match := _MAP_FIELD.fullmatch(path):
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    fields = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "status.podIP": "127.0.0.1",
        "status.hostIP": "127.0.0.1",
        "spec.nodeName": "sandbox",
    }
    return str(fields.get(path, ""))


# The container port of this name is where the claims API serves its metrics (METRICS_PORT).
METRICS_PORT_NAME = "metrics"


def local_port_env(container: Mapping[str, Any], ports: Mapping[str, int]) -> dict[str, str]:
    """The listen addresses a container is told: its first port as PORT with HOST=127.0.0.1, and
    the port named `metrics` as METRICS_PORT (each pod has local ports of its own)."""
    env: dict[str, str] = {}
    first_port = next(iter(container.get("ports") or []), None)
    if first_port is not None:
        env["PORT"] = str(ports[str(first_port["containerPort"])])
        env["HOST"] = "127.0.0.1"
    if METRICS_PORT_NAME in ports and any(
        spec.get("name") == METRICS_PORT_NAME for spec in container.get("ports") or ()
    ):
        env["METRICS_PORT"] = str(ports[METRICS_PORT_NAME])
    return env


def container_env(container: Mapping[str, Any], pod: Mapping[str, Any], lookup: Lookup) -> dict[str, str]:
    """The container's environment from `envFrom` then `env`, in Kubernetes' precedence order."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or ():
        prefix = source.get("prefix", "")
        for ref_key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
            if ref := source.get(ref_key):
                data = lookup(kind, ref["name"])
                if data is None:
                    if ref.get("optional"):
                        continue
                    raise ContainerConfigError(f'{kind.lower()} "{ref["name"]}" not found')
                env.update({prefix + key: value for key, value in data.items()})
    for entry in container.get("env") or ():
        value = _env_value(entry, pod, lookup)
        if value is not None:
            env[entry["name"]] = expand_vars(value, env)
    return env


def container_ports(container: Mapping[str, Any], local_ports: Sequence[int]) -> dict[str, int]:
    """Container ports by name and by number (as text), each given one of `local_ports` in order."""
    ports: dict[str, int] = {}
    for spec, local in zip(container.get("ports") or (), local_ports, strict=False):
        ports[str(spec["containerPort"])] = local
        if name := spec.get("name"):
            ports[name] = local
    return ports


def build_launch(
    container: Mapping[str, Any],
    *,
    pod: Mapping[str, Any],
    image: Image,
    lookup: Lookup,
    ports: Mapping[str, int],
    mounts: Mapping[str, Path],
    hosts: Mapping[str, str],
    termination_log: Path,
    base_env: Mapping[str, str],
) -> LaunchSpec:
    """The local process for `container`: its command, env with local ports/hosts/paths, and folder.

    The first container port becomes PORT with HOST=127.0.0.1, which is how
    the images of this project choose their listen address; the port named
    `metrics` becomes METRICS_PORT.
    """
    paths = {**image.paths, **mounts}
    message_path = container.get("terminationMessagePath") or DEFAULT_TERMINATION_LOG
    paths[message_path] = termination_log
    env = container_env(container, pod, lookup)
    env = {name: rewrite_paths(rewrite_hosts(value, hosts), paths) for name, value in env.items()}
    env.update(local_port_env(container, ports))
    env[TERMINATION_LOG_ENV] = str(termination_log)

    command = list(container.get("command") or image.entrypoint)
    args = list(container.get("args") or ())
    if not container.get("command") and not args and not image.entrypoint:
        raise ContainerConfigError(f'container "{container.get("name")}" has no command and no entrypoint')
    parts = [rewrite_paths(rewrite_hosts(expand_vars(part, env), hosts), paths) for part in command + args]
    argv = tuple(image.wiring(parts, ports, hosts) if image.wiring else parts)
    workdir = Path(rewrite_paths(container["workingDir"], paths)) if container.get("workingDir") else None
    return LaunchSpec(
        argv=argv,
        env={**base_env, **env},
        cwd=workdir or image.workdir,
        termination_log=termination_log,
    )


@dataclass(frozen=True)
class Mount:
    """A folder (or file) of the pod's state on the host, bind-mounted at `path` in the container."""

    source: Path
    path: str
    read_only: bool = False


def security_options(container: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
    """podman options for the pod's and the container's securityContext (the container's wins)."""
    pod_context = (pod.get("spec") or {}).get("securityContext") or {}
    context = {**pod_context, **(container.get("securityContext") or {})}
    options: list[str] = []
    if "runAsUser" in context:
        user = str(context["runAsUser"])
        options += ["--user", f"{user}:{context['runAsGroup']}" if "runAsGroup" in context else user]
    if context.get("readOnlyRootFilesystem"):
        options.append("--read-only")
    if context.get("allowPrivilegeEscalation") is False:
        options += ["--security-opt", "no-new-privileges"]
    for capability in (context.get("capabilities") or {}).get("drop") or ():
        options += ["--cap-drop", str(capability)]
    return options


def build_container_run(
    container: Mapping[str, Any],
    *,
    pod: Mapping[str, Any],
    image: Image,
    name: str,
    lookup: Lookup,
    ports: Mapping[str, int],
    mounts: Sequence[Mount],
    hosts: Mapping[str, str],
    termination_log: Path,
    base_env: Mapping[str, str],
    labels: Mapping[str, str],
    podman: str = "podman",
) -> LaunchSpec:
    """`podman run` of `image.reference` on the host network, as the kubelet would start `container`.

    The first container port becomes PORT with HOST=127.0.0.1 as for a process;
    in-cluster host names are rewritten the same way, while in-image paths stay
    (volumes are mounted where the pod mounts them). The environment goes to
    podman by name only (`--env NAME`), so no Secret value shows in a process list.
    """
    if not image.reference:
        raise ContainerConfigError(f'no built image stands for "{container.get("image")}"')
    env = container_env(container, pod, lookup)
    env = {key: rewrite_hosts(value, hosts) for key, value in env.items()}
    env.update(local_port_env(container, ports))
    message_path = container.get("terminationMessagePath") or DEFAULT_TERMINATION_LOG
    argv = [podman, "run", "--rm", "--name", name, "--network", "host", "--pull", "never"]
    for key, value in sorted(labels.items()):
        argv += ["--label", f"{key}={value}"]
    argv += security_options(container, pod)
    for mount in mounts:
        argv += ["--volume", f"{mount.source}:{mount.path}" + (":ro" if mount.read_only else "")]
    argv += ["--volume", f"{termination_log}:{message_path}"]
    if container.get("workingDir"):
        argv += ["--workdir", str(container["workingDir"])]
    for key in env:
        argv += ["--env", key]
    expand = [rewrite_hosts(expand_vars(part, env), hosts) for part in container.get("command") or ()]
    rest = [rewrite_hosts(expand_vars(part, env), hosts) for part in container.get("args") or ()]
    if image.wiring is not None:
        # Wired as one command line; values change in place and added flags go after the image.
        wired = image.wiring(expand + rest, ports, hosts)
        expand, rest = wired[: len(expand)], wired[len(expand) :]
    if expand:
        argv += ["--entrypoint", json.dumps(expand)]
    argv.append(image.reference)
    argv += rest
    return LaunchSpec(
        argv=tuple(argv),
        env={**base_env, **env},
        cwd=termination_log.parent,
        termination_log=termination_log,
        exec_prefix=(podman, "exec", name),
    )
