from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "hamseda.api"

    def ready(self) -> None:
        # Import the tasks at start-up, so that a misconfigured task backend stops the
        # server from starting instead of failing later in the worker.
        from hamseda.api import tasks  # noqa: F401
