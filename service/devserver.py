"""`make run`: the API on http://127.0.0.1:8000 ($DEV_PORT), metrics on 9100 ($DEV_METRICS_PORT), demo data.

Without DATABASE_URL a local PostgreSQL keeps its data in .local/pg (port
$DEV_PG_PORT, default 5433) between runs, and the API's two roles are made on
it: migrations and the seed run as the owner, gunicorn as the application role. The database is migrated with
`migrate_phase expand` then `contract`, as a release migrates it, the demo
data is topped up, the URLs and demo tokens are printed, and gunicorn serves in
the foreground; Ctrl-C stops gunicorn and then the PostgreSQL this script started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from localdb import LocalPostgres, provision_roles

SERVICE = Path(__file__).resolve().parent
REPO = SERVICE.parent
HOST = "127.0.0.1"


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=SERVICE, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def _banner(seed: str, port: int, metrics_port: int) -> str:
    base = f"http://{HOST}:{port}"
    password = os.environ.get("DEMO_PASSWORD", "rollguard-demo")
    token = json.loads(seed)["tenants"][0]["token"]
    return "\n".join(
        [
            f"API:        {base}/api/v1/",
            f"Swagger UI: {base}/api/docs/",
            f"Redoc:      {base}/api/redoc/",
            f"Health:     {base}/health/ready",
            f"Metrics:    http://{HOST}:{metrics_port}/metrics",
            f"Demo users: acme-admin, acme-biller, acme-viewer (and globex-...), password {password}",
            f"Seed:       {seed.strip()}",
            f'Try:        curl -H "Authorization: Token {token}" {base}/api/v1/claims/',
        ]
    )


def _serve(env: dict[str, str], port: int, metrics_port: int) -> int:
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"],
        cwd=SERVICE,
        env={**env, "HOST": HOST, "PORT": str(port), "METRICS_PORT": str(metrics_port)},
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        gunicorn.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    return gunicorn.wait()


def main() -> int:
    env = dict(os.environ)
    port = int(env.get("DEV_PORT", "8000"))
    metrics_port = int(env.get("DEV_METRICS_PORT", "9100"))
    server = None
    if not env.get("DATABASE_URL"):
        server = LocalPostgres(data_dir=REPO / ".local" / "pg", port=int(env.get("DEV_PG_PORT", "5433")))
        server.start()
        env.update(provision_roles(server.url(), "rollguard").env())
    try:
        # The same two phases a release runs; with one version serving locally
        # there is no rollout to wait for between them.
        for phase in ("expand", "contract"):
            _manage(env, "migrate_phase", phase)
        seed = _manage(env, "seed_demo")
        print(_banner(seed, port, metrics_port), flush=True)
        return _serve(env, port, metrics_port)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
