"""The `rollguard` command line: `run` the operator, `verify` a Service's recovery, `wait` for a release."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence


def _run(args: argparse.Namespace) -> int:
    import kopf

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
    kopf.run(
        standalone=True,
        clusterwide=clusterwide,
        namespaces=[] if clusterwide else namespaces,
        liveness_endpoint=args.liveness or None,
    )
    return 0


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

    return parser


def command_names() -> set[str]:
    """The subcommands the parser knows, so that `python -m rollguard` can default to `run`."""
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
