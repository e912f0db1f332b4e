from django.apps import AppConfig


class IntegrityConfig(AppConfig):
    name = "hamseda.integrity"
    verbose_name = "Integrity and audit"

    def ready(self) -> None:
        from hamseda.integrity import signals  # noqa: F401  (connects the login receivers)
