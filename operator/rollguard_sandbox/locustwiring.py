"""Locust's master and workers on one machine: the addresses a cluster gives them, made local.

In a cluster the master listens on its pod's port 5557 and the workers reach
it by the master Service's DNS name. Here every pod shares 127.0.0.1, so the
master listens on the local port the kubelet gave its container port, and
the workers dial the Service proxy's local port for `<service>:5557`. Locust
reads no `PORT` and the sandbox has no DNS: hence this rewrite of its
command line. Pure: the caller passes the ports and the Service addresses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rollguard.builders.loadtest import MASTER_PORT


def _value(argv: Sequence[str], flag: str) -> int | None:
    """The index of the value after `flag`, or None when the flag is absent."""
    for index, part in enumerate(argv[:-1]):
        if part == flag:
            return index + 1
    return None


def wire_locust(argv: Sequence[str], ports: Mapping[str, int], hosts: Mapping[str, str]) -> list[str]:
    """`argv` of a Locust master bound to its local port, or of a worker dialling the master's local address.

    `ports` maps container port numbers (as text) to local ports; `hosts` maps
    `service:port` to the Service proxy's `127.0.0.1:<port>`. Anything that is
    no distributed Locust run, or whose addresses are unknown, stays as it is.
    """
    wired = list(argv)
    local = ports.get(str(MASTER_PORT))
    if "--master" in wired and "--master-bind-port" not in wired and local is not None:
        wired += ["--master-bind-host", "127.0.0.1", "--master-bind-port", str(local)]
    host_at = _value(wired, "--master-host")
    if "--worker" in wired and host_at is not None:
        port_at = _value(wired, "--master-port")
        port = wired[port_at] if port_at is not None else str(MASTER_PORT)
        target = hosts.get(f"{wired[host_at]}:{port}")
        if target is not None:
            address, local_port = target.rsplit(":", 1)
            wired[host_at] = address
            if port_at is not None:
                wired[port_at] = local_port
            else:
                wired += ["--master-port", local_port]
    return wired
