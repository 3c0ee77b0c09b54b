"""The sandbox's command line (`make demo`): options, and a clean Ctrl-C that leaves no process."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollguard_sandbox.checkout import PACKAGE_DIR
from rollguard_sandbox.podman import DEFAULT_IMAGES

if TYPE_CHECKING:
    from rollguard_sandbox.demo import Sandbox


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rollguard_sandbox",
        description="Run the release story locally: PostgreSQL, a Kubernetes API emulator, the operator, "
        "and releases that succeed, fail readiness and crash-loop, with automatic rollbacks.",
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results", type=Path, default=Path("results/demo"), help="summary, timeline and logs (%(default)s)"
    )
    parser.add_argument("--story", type=Path, default=PACKAGE_DIR / "story.yaml", help="the releases to play")
    parser.add_argument(
        "--values", type=Path, default=PACKAGE_DIR / "values.yaml", help="chart values under all"
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="play only these releases"
    )
    parser.add_argument("--load-seconds", type=int, metavar="N", help="run time of each load test")
    parser.add_argument("--ready-timeout", type=int, metavar="N", help="health.readyTimeoutSeconds of all")
    parser.add_argument(
        "--backoff",
        type=float,
        default=2.0,
        metavar="S",
        help="first crash-loop back-off (%(default)s; k8s: 10)",
    )
    parser.add_argument(
        "--release-timeout", type=float, default=300.0, metavar="S", help="limit per release (%(default)s)"
    )
    parser.add_argument(
        "--runtime",
        choices=("processes", "containers"),
        default="processes",
        help="pods as local processes of this checkout, or as podman containers of the built images "
        "(`make images`; needs root) (%(default)s)",
    )
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="NAME=REF",
        help="the built image for api or loadtest with --runtime containers "
        f"(default: {', '.join(f'{k}={v}' for k, v in DEFAULT_IMAGES.items())})",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log the runtime's decisions")


def images(given: Sequence[str]) -> dict[str, str]:
    """The built images by name: the defaults, then `--image NAME=REF` over them."""
    chosen = dict(DEFAULT_IMAGES)
    for item in given:
        name, sep, reference = item.partition("=")
        if not sep or name not in DEFAULT_IMAGES or not reference:
            raise SystemExit(f"--image {item}: expected one of {', '.join(DEFAULT_IMAGES)}=<reference>")
        chosen[name] = reference
    return chosen


def run(args: argparse.Namespace) -> int:
    from rollguard_sandbox import processes
    from rollguard_sandbox.demo import Options, Sandbox

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Whatever happens to this process, the process groups it started go with it.
    atexit.register(processes.REGISTRY.kill_all)
    options = Options(
        results=args.results,
        story=args.story,
        values=args.values,
        load_seconds=args.load_seconds,
        ready_timeout=args.ready_timeout,
        backoff=args.backoff,
        release_timeout=args.release_timeout,
        only=tuple(args.only),
        runtime=args.runtime,
        images=images(args.image),
    )
    try:
        data = asyncio.run(_run_until_signalled(Sandbox(options)))
    except KeyboardInterrupt:
        print("\ninterrupted; everything the sandbox started has been stopped", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"rollguard_sandbox: {error}", file=sys.stderr)
        return 1
    return 0 if data["ok"] else 1


async def _run_until_signalled(sandbox: Sandbox) -> dict[str, Any]:
    """Run the sandbox; SIGINT and SIGTERM cancel it, so its cleanup runs before we exit."""
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(sandbox.run())
    interrupted = False

    def cancel() -> None:
        nonlocal interrupted
        interrupted = True
        task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, cancel)
    try:
        return await task
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))
