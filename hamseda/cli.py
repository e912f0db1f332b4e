"""The `hamseda` command (also `python -m hamseda`).

`demo`, `serve` and `worker` are run here; every other sub-command is a Django
management command (`migrate`, `createorganizer`, `keys`, `recount`, …).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hamseda.settings")
    command = argv[0] if argv else "help"
    if command in {"demo", "serve", "worker"}:
        import django

        django.setup()
        from hamseda import runtime

        getattr(runtime, command)(argv[1:])
        return
    from django.core.management import execute_from_command_line

    if command == "help" or command in {"-h", "--help"}:
        print(__doc__.strip(), "\n\nProcess commands: demo, serve, worker.\n")
    execute_from_command_line(["hamseda", *argv])
