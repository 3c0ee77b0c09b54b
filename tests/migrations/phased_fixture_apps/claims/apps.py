from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "phased_fixture_apps.claims"
    label = "claims"
