from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "fixture_apps.claims"
    label = "claims"
