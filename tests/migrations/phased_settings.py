"""Settings for running migrate_phase against the fixture apps in a subprocess.

DATABASE_URL picks the database, PM_APPS (comma-separated names under
phased_fixture_apps) picks which fixture apps are installed.
"""

import os

import dj_database_url

SECRET_KEY = "phased-migrations-tests"  # noqa: S105 - test-only settings
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "phased_migrations",
    *(f"phased_fixture_apps.{name}" for name in os.environ.get("PM_APPS", "").split(",") if name),
]
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
