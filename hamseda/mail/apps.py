from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "hamseda.mail"

    def ready(self) -> None:
        # Import the tasks at start-up, so that a misconfigured task backend stops the
        # server from starting instead of failing the first signer.
        from hamseda.mail import tasks  # noqa: F401
