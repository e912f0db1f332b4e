from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "hamseda.petitions"

    def ready(self) -> None:
        # Import the tasks at start-up, so that a misconfigured task backend stops the
        # server from starting instead of failing later in the worker.
        from hamseda.petitions import services, tasks, withdrawal  # noqa: F401
        from hamseda.vault.erasure import register_eraser

        # Erasure by e-mail address (vault.erasure) deletes a supporter's signatures on
        # every petition, counted out exactly as a withdrawal.
        register_eraser(
            "petitions.signatures",
            count=withdrawal.signatures_held,
            erase=withdrawal.erase_signatures,
            describe=withdrawal.describe_signatures,
        )
