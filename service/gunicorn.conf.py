"""gunicorn settings: `gunicorn -c gunicorn.conf.py config.wsgi`.

The access log holds method, path, status, size, duration and request id only:
no query string (search terms and filters may name a patient) and no request
headers (Authorization carries the token).
"""

import os
from typing import Any

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 - a container listens on all interfaces
workers = int(os.environ.get("GUNICORN_WORKERS", os.environ.get("WEB_CONCURRENCY", "2")))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then so a slow leak never reaches the memory limit.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# Heartbeat files on a tmpfs: a container's overlay filesystem can stall them.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - gunicorn's documented choice
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No gunicornc control socket: its default home-directory path does not exist
# for the image's user, and pods are managed by Kubernetes, not by hand.
control_socket_disable = True

accesslog = "-"
# Escapes each field of the JSON access line below (a path may carry quotes or newlines).
logger_class = "config.access_log.JsonAccessLogger"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = (
    '{"logger": "gunicorn.access", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, '
    '"bytes": "%(B)s", "duration_ms": %(M)s, "request_id": "%({x-request-id}o)s", "remote": "%(h)s"}'
)

# gunicorn's own messages as JSON lines like the application's; the access
# format above is already JSON, so its handler writes the message as it is.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.logging.JsonFormatter"},
        "raw": {"format": "%(message)s"},
    },
    "handlers": {
        "error": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "raw", "stream": "ext://sys.stdout"},
    },
    "root": {"handlers": ["error"], "level": loglevel.upper()},
    "loggers": {
        "gunicorn.error": {"handlers": ["error"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


# The API's metrics on their own port (METRICS_PORT; unset or 0 serves none),
# summed over the workers by the master: see config/metrics/server.py.
def when_ready(server: Any) -> None:
    from config.metrics import server as metrics

    metrics.start(os.environ, server.log)


def child_exit(server: Any, worker: Any) -> None:
    from config.metrics import server as metrics

    metrics.worker_exited(worker.pid, os.environ)
