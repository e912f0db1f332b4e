from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "hamseda.actions"

    def ready(self) -> None:
        # Import the tasks at start-up, so that a misconfigured task backend stops the
        # server from starting instead of failing later in the worker.
        from hamseda.actions import rsvps, tasks  # noqa: F401
        from hamseda.vault.erasure import register_eraser

        # Erasure by e-mail address (vault.erasure) deletes a supporter's RSVPs on every
        # event, taken out of the attendee counts exactly as a withdrawal.
        register_eraser(
            "actions.rsvps",
            count=rsvps.rsvps_held,
            erase=rsvps.erase_rsvps,
            describe=rsvps.describe_rsvps,
        )
