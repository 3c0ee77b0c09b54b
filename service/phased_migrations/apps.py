from django.apps import AppConfig


class PhasedMigrationsConfig(AppConfig):
    name = "phased_migrations"
    verbose_name = "Phased migrations"
    default_auto_field = "django.db.models.BigAutoField"
