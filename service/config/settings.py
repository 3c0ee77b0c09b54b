"""Settings for the claims API, read from the environment (twelve-factor).

`DJANGO_ENV=production` turns on the secure defaults and makes `DATABASE_URL`
and `DJANGO_SECRET_KEY` mandatory; anything else is a developer machine.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import prepared
from config.databases import connection_url
from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DJANGO_ENV = env_str("DJANGO_ENV", "development")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_ENV=production.")
    SECRET_KEY = "insecure-development-key-never-used-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])

_database_url = env_str("DATABASE_URL", "")
if not _database_url:
    if PRODUCTION:
        raise ImproperlyConfigured("DATABASE_URL must be set when DJANGO_ENV=production.")
    _database_url = "postgresql://postgres@127.0.0.1:5433/rollguard"
# Two roles: DATABASE_URL's reads and writes rows (no DDL, the audit trail
# insert-only), MIGRATION_DATABASE_URL's owns the schema and runs the owner
# commands of config.databases. Migrations grant the application role its rows.
_migration_database_url = env_str("MIGRATION_DATABASE_URL", "")
DATABASE_APPLICATION_ROLE = dj_database_url.parse(_database_url)["USER"]

# A short connect timeout keeps the readiness probe and requests from hanging on
# a database that went away; persistent connections spare a handshake per request.
# Health checks cost a `SELECT 1` before every request that reuses a connection;
# off by default, since a connection that broke fails one request and is then
# replaced. Turn them on where idle connections are cut (a pooler, a failover).
DATABASES = {
    "default": dj_database_url.parse(
        connection_url(sys.argv, application_url=_database_url, migration_url=_migration_database_url),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", default=False),
    )
}
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 2)
# The request path's fixed statements are prepared once per connection (config.prepared);
# off where a pooler shares server connections between transactions.
if env_bool("DB_PREPARED_STATEMENTS", default=True):
    DATABASES["default"]["OPTIONS"].update(prepared.options())

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "billing",
    "phased_migrations",
]

# No CommonMiddleware: it validates the Host header of every request, and the
# kubelet probes pods by IP, which ALLOWED_HOSTS cannot list. The API's own
# views still refuse a foreign Host wherever they build a URL, and every API
# path ends in a slash, so there is nothing for APPEND_SLASH to do.
MIDDLEWARE = [
    # First, so that its latency covers every other middleware.
    "config.metrics.middleware.RequestMetricsMiddleware",
    "config.drill.DrillMiddleware",
    "config.middleware.RequestIdMiddleware",
    "config.middleware.ApiResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Production serves what `collectstatic` gathered into the image; elsewhere the
# files come straight from the apps, so `make run` needs no collectstatic step.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))) if PRODUCTION else None
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["billing.api.authentication.TenantTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's own JSON: orjson renders a 25-claim page in 0.007 ms instead of 0.12 ms,
    # but that is under 1% of the request (service/README.md, "Sizing gunicorn").
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["billing.api.parsers.BoundedJSONParser"],
    # The OpenAPI schema describes every operation; OPTIONS would run lookups
    # (another tenant's id included) that nothing audits.
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "billing.api.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "billing.api.errors.exception_handler",
    # Counters in the database (billing.RateCounter): shared by every worker
    # and pod, and kept across worker recycles.
    "DEFAULT_THROTTLE_CLASSES": [
        "billing.api.throttling.SharedAnonRateThrottle",
        "billing.api.throttling.SharedUserRateThrottle",
    ],
    # The client address is taken from X-Forwarded-For only through this many
    # proxies of our own (the Ingress is one); 0 trusts no header at all.
    "NUM_PROXIES": env_int("API_TRUSTED_PROXY_HOPS", 0),
    # A load test drives one tenant's token from many users: the user rate must
    # stay far above what it sends, and every rate is tunable per deployment.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "1000/hour"),
        "user": env_str("API_THROTTLE_USER", "100000/hour"),
        "login": env_str("API_THROTTLE_LOGIN", "5/hour"),
        "login_account": env_str("API_THROTTLE_LOGIN_ACCOUNT", "10/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Request bodies are small JSON documents: anything larger or deeper is a 413
# or a 400 before a parser or serializer spends memory on it.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 64 * 1024)
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 16)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100

# A numbered v1 page of claims or audit events counts at most this many matching
# rows and reaches no row past them: /api/v2/ pages those lists by cursor.
API_LIST_COUNT_CAP = env_int("API_LIST_COUNT_CAP", 10_000)

REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_int("API_TOKEN_TTL_HOURS", 10)),
    # Refreshing would add a write to every request.
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "rollguard claims API",
    "DESCRIPTION": "Multi-tenant healthcare-billing claims: patients, payers, claims and their audit trail.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ClaimStatusEnum": "billing.models.ClaimStatus",
        "AuditActionEnum": "billing.models.AuditAction",
        "AuditOutcomeEnum": "billing.models.AuditOutcome",
    },
}

# Behind the cluster's TLS-terminating ingress: trust its scheme header, and keep
# the probes on plain HTTP so the kubelet is never redirected.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    if not SECURE_SSL_REDIRECT:
        # Turned off on purpose (plain HTTP inside the cluster, e.g. the
        # in-cluster load test): not a warning `check --deploy` should repeat.
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# The label `revision` on every request metric: which release this pod runs
# (the chart sets it from the operator's revision label or the image tag).
API_REVISION = env_str("API_REVISION", "") or "unknown"
# Route names that answer 500 on purpose, for release drills (config/drill.py); empty breaks nothing.
API_FAULT_ROUTES = env_list("API_FAULT_ROUTES", [])
if PRODUCTION and API_FAULT_ROUTES:
    raise ImproperlyConfigured("API_FAULT_ROUTES breaks routes on purpose: not with DJANGO_ENV=production.")

HEALTH_DATABASE_ALIAS = "default"
HEALTH_DB_TIMEOUT_MS = env_int("HEALTH_DB_TIMEOUT_MS", 2000)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.logging.RequestIdFilter"},
        "redact": {"()": "config.logging.RedactFilter"},
    },
    "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
