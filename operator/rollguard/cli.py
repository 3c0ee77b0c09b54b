"""The `rollguard` command line: `run` the operator, `verify` a Service's recovery."""

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
    namespace = args.namespace or os.environ.get("ROLLGUARD_NAMESPACE")
    clusterwide = args.all_namespaces or (
        not namespace and os.environ.get("ROLLGUARD_ALL_NAMESPACES") == "true"
    )
    if not clusterwide and not namespace:
        print("rollguard run: give --namespace (or ROLLGUARD_NAMESPACE) or --all-namespaces", file=sys.stderr)
        return 2
    kopf.run(
        standalone=True,
        clusterwide=clusterwide,
        namespaces=[namespace] if namespace and not clusterwide else [],
        liveness_endpoint=args.liveness or None,
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    from rollguard import probe

    result, attempts = asyncio.run(
        probe.verify(args.url, request_timeout=args.timeout, retries=args.retries, interval=args.interval)
    )
    verdict = "recovered" if result.ok else "not recovered"
    print(f"{verdict} after {attempts} attempt(s): {result.message}")
    return 0 if result.ok else 1


def _sandbox(args: argparse.Namespace) -> int:
    from rollguard.sandbox.cli import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rollguard", description="Safe releases of a Django API to Kubernetes."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the release operator (what `python -m rollguard` does)")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument("--namespace", "-n", help="the one namespace to serve (default: $ROLLGUARD_NAMESPACE)")
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

    from rollguard.sandbox.cli import add_arguments as add_sandbox_arguments

    sandbox = commands.add_parser(
        "sandbox", help="play the release story on this machine (what `make demo` runs)"
    )
    add_sandbox_arguments(sandbox)
    sandbox.set_defaults(handler=_sandbox)
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
