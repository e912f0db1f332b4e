from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "hamseda.petitions"

    def ready(self) -> None:
        # Import the tasks at start-up, so that a misconfigured task backend stops the
        # server from starting instead of failing later in the worker.
        from hamseda.petitions import tasks  # noqa: F401
