"""Mail-out queueing and sending rates (issue 8).

`.venv/bin/python bench/mailout_queue.py` (or `--help`). It sets up Django with the
production settings on a throw-away data folder (SQLite, WAL, as `hamseda demo` runs),
writes 100,000 confirmed signatures that asked to be kept updated (sealed and
fingerprinted as the sign path writes them, inserted in bulk) plus 10,000 that did
not, and measures:

- counting the recipients of the whole petition (what the organiser's page shows);
- `queue_mailout()`: listing every recipient with one INSERT … SELECT;
- sending: `run_mailout()` in this process to an SMTP server (aiosmtpd, a separate
  process on loopback), messages per second over a few thousand messages, with the
  organisation's rate set out of the way.

Goal (issue 8): 100,000 recipients queued in under 60 s on SQLite. Results are printed
and written to bench/results/mailout_queue.json.
"""

import argparse
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
GOAL_QUEUE_S = 60.0
LANGUAGES = ("en", "fa", "ps")
COUNTRIES = ("AF", "SE", "GB", "US", "DE", "IR", "PK", "NO")


def setup_django(data_dir: Path, email_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "hamseda.settings"
    os.environ["HAMSEDA_DATA_DIR"] = str(data_dir)
    os.environ["HAMSEDA_SECRET_KEY"] = secrets.token_urlsafe(48)
    os.environ["HAMSEDA_EMAIL_URL"] = email_url
    for name in ("HAMSEDA_DATABASE_URL", "HAMSEDA_REDIS_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smtp_server(port: int) -> subprocess.Popen:
    """aiosmtpd's Sink (accepts and drops every message) in its own process."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the SMTP server did not start")


def organisation():
    from hamseda.orgs import services as org_services
    from hamseda.vault import crypto

    organization = org_services.create_organization(name="Bench", slug="bench")
    public_key, secret_key = crypto.generate_keypair()
    organization.public_key = public_key
    organization.mail_rate_per_minute = 100_000_000  # Out of the way: measure the sender.
    organization.save()
    return organization, secret_key


def petition_with_update(organization, slug: str):
    from hamseda.petitions import services, updates
    from hamseda.petitions.models import Petition

    petition = Petition(organization=organization, slug=slug)
    texts = {
        "en": {"title": "Suspend the accounts", "summary": "Why.", "story": "Story"},
        "fa": {"title": "حساب‌ها را مسدود کنید", "summary": "چرا", "story": "داستان"},
        "ps": {"title": "حسابونه بند کړئ", "summary": "ولې", "story": "کیسه"},
    }
    services.save_petition(petition, texts=texts)
    services.submit_petition(petition)
    services.approve_petition(petition)
    update = updates.save_update(
        petition,
        texts={
            "en": {"title": "We reached the company", "body": "They **read** it. " * 20},
            "fa": {"title": "به شرکت رسیدیم", "body": "آنها **خواندند**. " * 20},
            "ps": {"title": "شرکت ته ورسیدو", "body": "هغوی **ولوستل**. " * 20},
        },
    )
    return petition, updates.publish_update(update)


def bulk_signatures(petition, count: int, *, keep_updated: bool, start: int) -> float:
    """Sealed, fingerprinted, confirmed signatures in bulk; returns the seconds taken."""
    from django.db import transaction
    from django.utils import timezone

    from hamseda.petitions import counting, services
    from hamseda.petitions.models import Signature, SignatureState
    from hamseda.vault import crypto

    began = time.perf_counter()
    now = timezone.now()
    public_key = petition.organization.public_key
    key_id = crypto.key_id(public_key)
    countries: Counter = Counter()
    for first in range(start, start + count, 5_000):
        rows = []
        for number in range(first, min(first + 5_000, start + count)):
            signer = services.Signer(
                first_name="Maryam",
                last_name=f"Bench{number}",
                email=f"bench{number}@example.org",
                country=COUNTRIES[number % len(COUNTRIES)],
                keep_updated=keep_updated,
                language=LANGUAGES[number % 3],
            )
            rows.append(
                Signature(
                    petition=petition,
                    state=SignatureState.VALIDATED,
                    email_fingerprint=crypto.email_fingerprint(signer.email),
                    token_hash=crypto.token_hash(f"bench-{number}"),
                    token_sent_at=now,
                    sealed=crypto.seal(public_key, services.sealed_record(signer, now)),
                    key_id=key_id,
                    country=signer.country,
                    keep_updated=keep_updated,
                    language=signer.language,
                    email_domain="example.org",
                    created_at=now,
                    validated_at=now,
                )
            )
            countries[signer.country] += 1
        with transaction.atomic():
            Signature.objects.bulk_create(rows, batch_size=1_000)
    with transaction.atomic():
        for country, amount in countries.items():
            counting.count_confirmation(petition.pk, country, now, amount=amount)
    return time.perf_counter() - began


def bench_queue(organization, recipients: int, others: int) -> dict:
    from hamseda.mail import mailouts

    petition, update = petition_with_update(organization, "bench-queue")
    fill_s = bulk_signatures(petition, recipients, keep_updated=True, start=0)
    bulk_signatures(petition, others, keep_updated=False, start=recipients)
    began = time.perf_counter()
    counted = mailouts.count_recipients(petition)
    count_s = time.perf_counter() - began
    segment = mailouts.Segment(countries=("AF", "SE"), languages=("fa", "ps"))
    began = time.perf_counter()
    counted_segment = mailouts.count_recipients(petition, segment)
    count_segment_s = time.perf_counter() - began
    mailout = mailouts.create_mailout(petition, update=update)
    began = time.perf_counter()
    queued = mailouts.queue_mailout(mailout)
    queue_s = time.perf_counter() - began
    assert queued == counted == recipients, (queued, counted)
    return {
        "signatures": recipients + others,
        "recipients": recipients,
        "fill_s": round(fill_s, 2),
        "count_recipients_s": round(count_s, 3),
        "count_segment_s": round(count_segment_s, 3),
        "segment_recipients": counted_segment,
        "queue_s": round(queue_s, 2),
        "queued_per_s": round(queued / queue_s),
        "meets_goal": queue_s < GOAL_QUEUE_S,
    }


def bench_send(organization, secret_key: str, messages: int) -> dict:
    from hamseda.mail import mailouts

    petition, update = petition_with_update(organization, "bench-send")
    bulk_signatures(petition, messages, keep_updated=True, start=1_000_000)
    mailout = mailouts.create_mailout(petition, update=update)
    mailouts.queue_mailout(mailout)
    keys = mailouts.read_keys([secret_key])
    started = mailouts.start_mailout(mailout, keys, via="cli")
    began, cpu = time.perf_counter(), time.process_time()
    done = mailouts.run_mailout(started.pk, keys)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert done.sent == messages, mailouts.progress(done)
    return {
        "messages": messages,
        "wall_s": round(wall, 2),
        "sender_cpu_s": round(cpu, 2),
        "messages_per_s": round(messages / wall),
        "ms_per_message": round(wall * 1000 / messages, 2),
    }


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=10_000, help="signers without consent")
    parser.add_argument("--messages", type=int, default=2_000, help="messages to send")
    parser.add_argument("--profile", action="store_true", help="profile the sender")
    parser.add_argument("--output", type=Path, default=RESULTS / "mailout_queue.json")
    options = parser.parse_args(argv)
    if not 1 <= options.recipients <= 2_000_000 or not 1 <= options.messages <= 100_000:
        parser.error("--recipients 1-2000000, --messages 1-100000")
    return options


def main(argv=None) -> int:
    options = parse_args(argv)
    started = datetime.now(UTC)
    port = free_port()
    server = smtp_server(port)
    try:
        with tempfile.TemporaryDirectory(prefix="hamseda-bench-mailout-") as data_dir:
            setup_django(Path(data_dir), f"smtp://127.0.0.1:{port}")
            organization, secret_key = organisation()
            load_before = os.getloadavg()[0]
            queue = bench_queue(organization, options.recipients, options.others)
            if options.profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.enable()
            send = bench_send(organization, secret_key, options.messages)
            if options.profile:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            load_after = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=10)
    result = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "database": "SQLite (WAL), production settings",
        "load_average": {"before": load_before, "after": load_after},
        "goals": {"queue_100k_s": GOAL_QUEUE_S},
        "queue": queue,
        "send": send,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(
        f"Queueing: {queue['recipients']:,} recipients among {queue['signatures']:,} "
        f"signatures listed in {queue['queue_s']} s ({queue['queued_per_s']:,}/s; goal "
        f"< {GOAL_QUEUE_S:.0f} s: {'yes' if queue['meets_goal'] else 'NO'}); counting them "
        f"took {queue['count_recipients_s']} s, a segment "
        f"({queue['segment_recipients']:,}) {queue['count_segment_s']} s."
    )
    print(
        f"Sending: {send['messages']:,} messages to a local SMTP server in {send['wall_s']} s "
        f"= {send['messages_per_s']} messages/s ({send['ms_per_message']} ms each; sender "
        f"CPU {send['sender_cpu_s']} s). Load average {load_before:.1f} → {load_after:.1f}."
    )
    return 0 if queue["meets_goal"] else 1


if __name__ == "__main__":
    sys.exit(main())
