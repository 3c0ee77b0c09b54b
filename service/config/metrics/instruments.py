"""The request counter and latency histogram, and the revision every series carries.

Under gunicorn the values live in files of PROMETHEUS_MULTIPROC_DIR (one per
worker, set by gunicorn.conf.py before the workers start), which the master
sums when it is scraped (`config.metrics.server`). Elsewhere (tests, a shell)
they stay in this process and `API_REGISTRY` exposes them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REQUESTS_TOTAL = "claims_api_http_requests_total"
REQUEST_DURATION = "claims_api_http_request_duration_seconds"
LABELS = ("view", "method", "status", "revision")
# Seconds. 0.5 is the chart's default p95 threshold, so it is a boundary;
# the API's requests take 2 ms (/health/live) to about 100 ms (a full page).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

API_REGISTRY = CollectorRegistry()

requests_total = Counter(
    REQUESTS_TOTAL.removesuffix("_total"),
    "HTTP requests answered, by route name, method, status and the pod's revision.",
    LABELS,
    registry=API_REGISTRY,
)
request_duration = Histogram(
    REQUEST_DURATION,
    "Seconds from the first middleware receiving the request to the response, by route name, method, "
    "status and the pod's revision.",
    LABELS,
    buckets=BUCKETS,
    registry=API_REGISTRY,
)
