"""The `rollguard` command line: `run` the operator, `verify` a Service's recovery, `wait` for a
release, and `promote`, `abort`, `retry` or show the `status` of one."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
import uuid
from collections.abc import Sequence
from typing import Any


def _run(args: argparse.Namespace) -> int:
    import rollguard.handlers  # noqa: F401 - registers the handlers with kopf

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    namespaces = served_namespaces(args.namespace, os.environ.get("ROLLGUARD_NAMESPACE"))
    clusterwide = args.all_namespaces or (
        not namespaces and os.environ.get("ROLLGUARD_ALL_NAMESPACES") == "true"
    )
    if not clusterwide and not namespaces:
        print("rollguard run: give --namespace (or ROLLGUARD_NAMESPACE) or --all-namespaces", file=sys.stderr)
        return 2
    lease_namespace = (
        args.leader_election_namespace
        or os.environ.get("POD_NAMESPACE")
        or (namespaces[0] if namespaces else None)
    )
    if args.leader_elect and not lease_namespace:
        print("rollguard run: --all-namespaces needs --leader-election-namespace", file=sys.stderr)
        return 2
    from rollguard.lease import Timing

    timing = Timing(
        args.leader_election_lease_duration,
        args.leader_election_renew_deadline,
        args.leader_election_retry_period,
    )
    if args.leader_elect and (problem := timing.problem()):
        print(f"rollguard run: {problem}", file=sys.stderr)
        return 2
    # The handlers read their settings from the environment; the flags win over it.
    os.environ["ROLLGUARD_KUBE_API_QPS"] = str(args.kube_api_qps)
    os.environ["ROLLGUARD_KUBE_API_BURST"] = str(args.kube_api_burst)
    asyncio.run(_operate(args, namespaces, clusterwide, lease_namespace or "", timing))
    return 0


async def _operate(
    args: argparse.Namespace, namespaces: list[str], clusterwide: bool, lease_namespace: str, timing: Any
) -> None:
    """Wait for the Lease (when electing), then run kopf until it stops or the Lease is lost."""
    import kopf

    from rollguard.kube import KubeClient
    from rollguard.leader import LeaderElector, standby_liveness

    elector = None
    if args.leader_elect:
        settings = kopf.OperatorSettings()
        info = kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(
            settings=settings
        )
        if info is None:
            raise SystemExit("rollguard run: no credentials (neither a service account nor a kubeconfig)")
        kube = KubeClient()
        await kube.configure(info)
        elector = LeaderElector(
            kube,
            namespace=lease_namespace,
            name=args.leader_election_id,
            identity=args.leader_election_identity or default_identity(),
            timing=timing,
        )
        async with standby_liveness(args.liveness or None):
            await elector.acquire()
            # Renewing starts with leading, before the standby's probe server has shut down.
            keeper = asyncio.create_task(elector.keep(on_lost=_exit_at_once))
    try:
        await kopf.operator(
            standalone=True,
            clusterwide=clusterwide,
            namespaces=[] if clusterwide else namespaces,
            liveness_endpoint=args.liveness or None,
            memo=kopf.Memo(elector=elector),
        )
    finally:
        if elector is not None:
            keeper.cancel()
            await elector.release()
            await elector.kube.close()


def _exit_at_once() -> None:
    """Leadership lost: stop this process now, as controller-runtime does; the kubelet restarts it
    as a candidate. Nothing more may be written, not even by kopf's own shutdown."""
    logging.getLogger("rollguard").error("exiting: not the leader any more")
    logging.shutdown()
    os._exit(1)


def default_identity() -> str:
    """The pod's name (stable across container restarts, so a restarted leader renews its own
    Lease at once), else the host name with a random suffix."""
    if pod := os.environ.get("POD_NAME"):
        return pod
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


def served_namespaces(flags: Sequence[str] | None, environ_value: str | None) -> list[str]:
    """The namespaces to serve: every `--namespace`, else the comma-separated ROLLGUARD_NAMESPACE."""
    given = list(flags) if flags else (environ_value or "").split(",")
    return list(dict.fromkeys(name.strip() for name in given if name.strip()))


def _verify(args: argparse.Namespace) -> int:
    from rollguard import probe

    result, attempts = asyncio.run(
        probe.verify(args.url, request_timeout=args.timeout, retries=args.retries, interval=args.interval)
    )
    verdict = "recovered" if result.ok else "not recovered"
    print(f"{verdict} after {attempts} attempt(s): {result.message}")
    return 0 if result.ok else 1


def _wait(args: argparse.Namespace) -> int:
    from rollguard import wait

    outcome = asyncio.run(wait.run(args.release, args.namespace, args.timeout))
    print(outcome.line)
    return outcome.code


def _control(args: argparse.Namespace) -> int:
    from rollguard import control

    outcome = asyncio.run(
        control.run(args.command, args.release, args.namespace, full=getattr(args, "full", False))
    )
    print(outcome.line)
    return outcome.code


def _control_commands(commands: Any) -> None:
    for action, meaning in (
        ("promote", "skip the canary's current step (a pause, an analysis); --full skips every step left"),
        ("abort", "roll a release in flight back to its stable revision (a canary's pods go at once)"),
        ("retry", "release the held failed revision again, from its first step"),
        ("status", "the release's steps (the current one marked), its analysis results and revisions"),
    ):
        parser = commands.add_parser(action, help=meaning)
        parser.add_argument("release", metavar="NAME", help="the ApiRelease (NAME or apirelease/NAME)")
        parser.add_argument("--namespace", "-n", help="default: the kubeconfig context's namespace")
        if action == "promote":
            parser.add_argument("--full", action="store_true", help="promote to 100%% at once")
        parser.set_defaults(handler=_control)


def _release_reference(value: str) -> str:
    from rollguard.wait import parse_reference

    try:
        parse_reference(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rollguard", description="Safe releases of a Django API to Kubernetes."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the release operator (what `python -m rollguard` does)")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument(
        "--namespace",
        "-n",
        action="append",
        help="a namespace to serve; repeat for several (default: $ROLLGUARD_NAMESPACE, comma-separated)",
    )
    scope.add_argument("--all-namespaces", "-A", action="store_true", help="serve every namespace")
    run.add_argument(
        "--liveness",
        default=os.environ.get("ROLLGUARD_LIVENESS", "http://0.0.0.0:8080/healthz"),
        help="kopf's liveness endpoint; empty turns it off (default: %(default)s)",
    )
    run.add_argument("--verbose", "-v", action="store_true")
    _leader_flags(run)
    _client_flags(run)
    run.set_defaults(handler=_run)

    verify = commands.add_parser("verify", help="check that a Service answers its readiness endpoint")
    verify.add_argument("--url", required=True, help="e.g. http://claims-api.prod.svc:80/health/ready")
    verify.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per request (default: %(default)s)"
    )
    verify.add_argument(
        "--retries", type=int, default=5, help="extra attempts after a failure (default: %(default)s)"
    )
    verify.add_argument(
        "--interval", type=float, default=2.0, help="seconds between attempts (default: %(default)s)"
    )
    verify.set_defaults(handler=_verify)

    wait = commands.add_parser(
        "wait", help="wait until an ApiRelease is Ready; fail when it stalls (the chart's Helm hook)"
    )
    wait.add_argument("release", type=_release_reference, metavar="apirelease/NAME")
    wait.add_argument(
        "--namespace", "-n", help="the release's namespace (default: the pod's or the kubeconfig context's)"
    )
    wait.add_argument(
        "--timeout", type=float, default=600.0, help="seconds before giving up (default: %(default)s)"
    )
    wait.set_defaults(handler=_wait)
    _control_commands(commands)

    return parser


def _leader_flags(run: argparse.ArgumentParser) -> None:
    from rollguard.lease import LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD

    group = run.add_argument_group(
        "leader election (one active replica, through a coordination.k8s.io Lease)"
    )
    group.add_argument(
        "--leader-elect",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("ROLLGUARD_LEADER_ELECT", "true").lower() not in ("0", "false", "no"),
        help="run only while holding the Lease (default: %(default)s)",
    )
    group.add_argument("--leader-election-id", default="rollguard-operator", help="the Lease's name")
    group.add_argument(
        "--leader-election-namespace",
        help="the Lease's namespace (default: $POD_NAMESPACE, else the first --namespace)",
    )
    group.add_argument(
        "--leader-election-identity", help="this replica's name in the Lease (default: $POD_NAME)"
    )
    for flag, default, meaning in (
        ("lease-duration", LEASE_DURATION, "how long a standby waits after the last renewal it saw"),
        ("renew-deadline", RENEW_DEADLINE, "how long the leader keeps acting without a renewal"),
        ("retry-period", RETRY_PERIOD, "the pause between attempts to take or renew the Lease"),
    ):
        group.add_argument(
            f"--leader-election-{flag}",
            type=float,
            default=default,
            help=f"seconds: {meaning} (default: %(default)s)",
        )


def _client_flags(run: argparse.ArgumentParser) -> None:
    from rollguard.settings import DEFAULT_BURST, DEFAULT_QPS

    group = run.add_argument_group("API client")
    group.add_argument(
        "--kube-api-qps",
        type=float,
        default=float(os.environ.get("ROLLGUARD_KUBE_API_QPS", DEFAULT_QPS)),
        help="requests a second to the API server, sustained (default: %(default)s)",
    )
    group.add_argument(
        "--kube-api-burst",
        type=int,
        default=int(os.environ.get("ROLLGUARD_KUBE_API_BURST", DEFAULT_BURST)),
        help="requests allowed at once above the sustained rate (default: %(default)s)",
    )


def command_names() -> set[str]:
    """The subcommands the parser knows, so that `python -m rollguard` can default to `run`."""
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
