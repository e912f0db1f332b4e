"""Long-running processes: the web server, the background worker, and the demo."""

import argparse
import logging
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task

log = logging.getLogger("hamseda")

# Periodic jobs the worker enqueues, with their interval in seconds.
SCHEDULE = [
    ("hamseda.petitions.tasks.purge_unconfirmed_signatures", 3600),
    ("hamseda.petitions.tasks.check_thresholds", 60),
    ("hamseda.vault.tasks.purge_personal_data", 24 * 3600),
    ("hamseda.vault.tasks.prune_erasure_mail_limits", 3600),
    ("hamseda.integrity.tasks.prune_limit_counters", 3600),
    ("hamseda.runtime.prune_finished_tasks", 24 * 3600),
    # Integrity trends (docs/integrity.md, "Integrity trends"): per-minute buckets, and blanking
    # network fingerprints past their retention (PRIVACY.md rule 4).
    ("hamseda.integrity.tasks.aggregate_trends", 60),
    ("hamseda.integrity.tasks.blank_network_fingerprints", 3600),
    # Days of action (docs/actions.md): day-before reminders, once per event; addresses kept
    # for notices wiped once events are over (PRIVACY.md rule 3).
    ("hamseda.actions.tasks.send_event_reminders", 300),
    ("hamseda.actions.tasks.wipe_attendee_contacts", 3600),
    # RSVPs deleted HAMSEDA_RETENTION_DAYS after their event (PRIVACY.md rule 8).
    ("hamseda.actions.tasks.purge_past_rsvps", 24 * 3600),
    # Partners' webhooks (docs/api-osdi-webhooks.md): due deliveries and their retries.
    ("hamseda.api.tasks.deliver_webhooks", 15),
    ("hamseda.api.tasks.prune_webhook_deliveries", 24 * 3600),
    # The write API's Idempotency-Key records live 24 hours (docs/api-write.md).
    ("hamseda.api.tasks.purge_idempotency_records", 3600),
    # Pulse (docs/pulse-fetching.md): fetch the hashtag sources that are due; each source
    # is fetched every 10 minutes at most (pulse.fetch.FETCH_INTERVAL).
    ("hamseda.pulse.tasks.fetch_pulse_sources", 60),
]
# How often the mail loop looks for due messages when it found none, in seconds.
MAIL_POLL_SECONDS = 1.0


def prepare() -> None:
    """Create the data folder and bring the database schema up to date."""
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    (settings.DATA_DIR / "mailbox").mkdir(exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)


def _scheduler(stop: threading.Event) -> None:
    from django.db import close_old_connections
    from django.utils.module_loading import import_string

    last_run: dict[str, float] = {}
    while not stop.is_set():
        for path, every in SCHEDULE:
            if time.monotonic() - last_run.get(path, -every) >= every:
                close_old_connections()
                try:
                    import_string(path).enqueue()
                except Exception:  # Keep scheduling; the next round retries.
                    log.exception("could not enqueue %s", path)
                last_run[path] = time.monotonic()
        stop.wait(5)


def _mail_loop(stop: threading.Event) -> None:
    """Deliver due mail from the outbox until stopped."""
    from django.db import close_old_connections

    from hamseda.mail.services import deliver_due

    while not stop.is_set():
        close_old_connections()
        try:
            sent = deliver_due()
        except Exception:  # A database hiccup must not end mail delivery for good.
            log.exception("mail delivery round failed")
            sent = 0
        if not sent:
            stop.wait(MAIL_POLL_SECONDS)


def run_worker(*, install_signals: bool = True, interval: float = 0.5) -> None:
    """Run background work until stopped: mail delivery, and the scheduled jobs."""
    from django_tasks_db.management.commands.db_worker import Worker

    stop = threading.Event()
    threading.Thread(target=_scheduler, args=(stop,), daemon=True, name="scheduler").start()
    threading.Thread(target=_mail_loop, args=(stop,), daemon=True, name="mail").start()
    worker = Worker(
        queue_names=["*"],
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{os.uname().nodename}-{os.getpid()}",
        excluded_queue_names=[],
    )
    if install_signals:
        worker.configure_signals()
    try:
        worker.run()
    finally:
        stop.set()


@task()
def prune_finished_tasks(days: int = 7) -> int:
    """Delete the records of background tasks that finished more than `days` ago."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


def worker(argv: list[str]) -> None:
    argparse.ArgumentParser(prog="hamseda worker", description=run_worker.__doc__).parse_args(argv)
    run_worker()


def _server_options(argv: list[str], prog: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1))
    parser.add_argument("--threads", type=int, default=4)
    if prog.endswith("demo"):
        parser.add_argument(
            "--no-serve", action="store_true", help="Set up the demo, then stop before serving."
        )
    return parser.parse_args(argv)


def run_gunicorn(host: str, port: int, workers: int, threads: int) -> None:
    """Serve with gunicorn (gthread workers). Access logs carry neither client
    addresses nor query strings (PRIVACY.md rule 4)."""
    from gunicorn.app.base import BaseApplication

    from hamseda.wsgi import application

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "accesslog": "-",
        "access_log_format": '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
        # Holds both of gunicorn's logs to the privacy rules, whatever the format says.
        "logger_class": "hamseda.privatelogs.GunicornLogger",
        "forwarded_allow_ips": ",".join(settings.TRUSTED_PROXIES) or "127.0.0.1",
        "timeout": 60,
        "graceful_timeout": 20,
        "limit_request_line": 8190,
    }

    class Server(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    Server().run()


def serve(argv: list[str]) -> None:
    options = _server_options(argv, "hamseda serve")
    call_command("collectstatic", interactive=False, verbosity=0)
    run_gunicorn(options.host, options.port, options.workers, options.threads)


def demo(argv: list[str]) -> None:
    options = _server_options(argv, "hamseda demo")
    prepare()
    from hamseda.demo import load_demo

    login = load_demo()
    print(login)
    if options.no_serve:
        return
    call_command("collectstatic", interactive=False, verbosity=0)
    # The worker runs in a thread of this (gunicorn master) process; the web workers
    # are forked from it and do not inherit the thread.
    threading.Thread(
        target=run_worker, kwargs={"install_signals": False}, daemon=True, name="worker"
    ).start()
    print(
        f"Serving the demo on http://{options.host}:{options.port}/ — mail goes to "
        f"{Path(settings.DATA_DIR) / 'mailbox'}"
    )
    run_gunicorn(options.host, options.port, 1, options.threads)
