from django.apps import AppConfig


class PulseConfig(AppConfig):
    name = "hamseda.pulse"

    def ready(self) -> None:
        # Import the tasks at start-up, so that a misconfigured task backend stops the
        # server from starting instead of failing later in the worker.
        from hamseda.pulse import tasks  # noqa: F401
