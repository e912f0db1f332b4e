"""Bounces: addresses that cannot receive mail, known only by their fingerprint.

Two ways an address is found undeliverable (docs/mailouts.md):

- synchronously: the mail server refuses the recipient with a 5xx while a mail-out is
  sent (mail.sending records it with `mark_undeliverable`);
- asynchronously: a relay accepted the message and later mailed back a delivery status
  notification (RFC 3464). `hamseda bounces FILE…` reads those from .eml files, an mbox
  or a Maildir (`process_paths`). Our messages carry a Message-ID that names the
  mail-out and the recipient row (mail.compose.message_id), and a DSN quotes the
  original headers, so the recipient is found without any address; the fingerprint
  comes from the signature row.

Either way the Undeliverable row holds only the keyed fingerprint (PRIVACY.md rule 2),
and later mail-outs leave that address out.
"""

import email
import email.policy
import hmac
import mailbox
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from hamseda.mail.models import Mailout, MailoutRecipient, RecipientState, Undeliverable

OUR_MESSAGE_ID = re.compile(r"<mailout-(\d+)\.(\d+)\.([0-9a-f]{12})@[^>\s]+>")
# The counter a recipient leaves when a later bounce report turns it into a bounce.
COUNTER_OF: dict[str, str] = {
    RecipientState.SENT: "sent",
    RecipientState.FAILED: "failed",
    RecipientState.SKIPPED: "skipped",
}
# A DSN file is small; a bigger one is some other file given by mistake.
MESSAGE_LIMIT = 10 * 1024 * 1024


class BounceInputError(Exception):
    """A file or folder that cannot be read as mail; the message says why."""


def mark_undeliverable(fingerprint: str, status: str, *, now: datetime | None = None) -> None:
    """Record (or count again) a permanent bounce of the address with this fingerprint.
    Call inside a transaction. Insert-or-update without a race: the fingerprint is the
    primary key, and of two inserts one fails and counts instead."""
    now = now or timezone.now()
    status = status[:16]
    counted = Undeliverable.objects.filter(pk=fingerprint).update(
        bounces=F("bounces") + 1, last_bounced_at=now, status=status
    )
    if counted:
        return
    try:
        with transaction.atomic():
            Undeliverable.objects.create(
                email_fingerprint=fingerprint,
                status=status,
                first_bounced_at=now,
                last_bounced_at=now,
            )
    except IntegrityError:
        Undeliverable.objects.filter(pk=fingerprint).update(
            bounces=F("bounces") + 1, last_bounced_at=now, status=status
        )


def record_bounce(
    mailout_id: int, recipient_id: int, status: str, *, now: datetime | None = None
) -> str:
    """A bounce report for one recipient of a mail-out: "bounced", "already" (reported
    before) or "unknown" (no such recipient, e.g. the mail-out was deleted)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            MailoutRecipient.objects.select_for_update(of=("self",))
            .filter(pk=recipient_id, mailout_id=mailout_id)
            .values("state", "signature__email_fingerprint")
            .first()
        )
        if row is None:
            return "unknown"
        if row["state"] == RecipientState.BOUNCED:
            return "already"
        MailoutRecipient.objects.filter(pk=recipient_id).update(
            state=RecipientState.BOUNCED, last_error=f"DSN {status}"[:120]
        )
        changes: dict[str, Any] = {"bounced": F("bounced") + 1}
        left = COUNTER_OF.get(row["state"])
        if left:
            changes[left] = Greatest(F(left) - 1, 0)
        Mailout.objects.filter(pk=mailout_id).update(**changes)
        if row["signature__email_fingerprint"]:
            mark_undeliverable(row["signature__email_fingerprint"], status, now=now)
    return "bounced"


# --- reading delivery status notifications -----------------------------------------------------


@dataclass(frozen=True)
class Bounce:
    mailout_id: int
    recipient_id: int
    status: str


def our_message(message_id: str) -> tuple[int, int] | None:
    """(mailout id, recipient id) if `message_id` is one of ours, MAC checked."""
    from hamseda.mail.compose import message_id_mac

    match = OUR_MESSAGE_ID.search(message_id or "")
    if match is None:
        return None
    mailout_id, recipient_id = int(match.group(1)), int(match.group(2))
    if not hmac.compare_digest(match.group(3), message_id_mac(mailout_id, recipient_id)):
        return None
    return mailout_id, recipient_id


def _returned_message_ids(report: Message) -> list[str]:
    """The Message-IDs of the returned original (its headers or the whole message)."""
    found = []
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            text = (
                payload.decode("utf-8", "replace")
                if isinstance(payload, bytes)
                else str(part.get_payload())
            )
            headers = HeaderParser().parsestr(text)
            found.append(str(headers.get("Message-ID", "")))
        elif content_type == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found.append(str(inner[0].get("Message-ID", "")))
    return [value for value in found if value]


def _failed_statuses(report: Message) -> tuple[list[str], bool]:
    """(permanent failure statuses, whether the report is a DSN at all)."""
    statuses = []
    is_dsn = False
    for part in report.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        is_dsn = True
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:  # The first block is about the whole message.
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip().split(" ")[0]
            if action == "failed" and status.startswith("5"):
                statuses.append(status)
    return statuses, is_dsn


def bounces_in(report: Message) -> tuple[list[Bounce], str]:
    """The permanent bounces of our messages a report tells of, and what it is:
    "bounce", "transient" (a DSN about a delay or a temporary failure), "foreign" (a
    DSN about a message that is not one of our mail-outs) or "not-dsn"."""
    statuses, is_dsn = _failed_statuses(report)
    if not is_dsn:
        return [], "not-dsn"
    ours = [named for value in _returned_message_ids(report) if (named := our_message(value))]
    if not ours:
        return [], "foreign"
    if not statuses:
        return [], "transient"
    mailout_id, recipient_id = ours[0]
    return [Bounce(mailout_id, recipient_id, statuses[0])], "bounce"


def read_messages(path: Path) -> Iterator[tuple[str, Message | None]]:
    """(name, message) for each mail in an .eml file, an mbox or a Maildir; message is
    None for one that cannot be parsed. BounceInputError if `path` cannot be read."""
    if path.is_dir():
        if not all((path / sub).is_dir() for sub in ("cur", "new")):
            raise BounceInputError(f"{path}: a folder, but not a Maildir (no cur/ and new/).")
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in box.iterkeys():
            yield from _parse(f"{path}/{key}", lambda key=key: box.get_bytes(key))
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(5)
    except FileNotFoundError as error:
        raise BounceInputError(f"{path}: there is no such file.") from error
    except OSError as error:
        raise BounceInputError(f"{path} cannot be read: {error.strerror}.") from error
    if head == b"From ":
        mbox = mailbox.mbox(path, create=False)
        for key in mbox.iterkeys():
            yield from _parse(f"{path}#{key}", lambda key=key: mbox.get_bytes(key))
        return
    if path.stat().st_size > MESSAGE_LIMIT:
        raise BounceInputError(f"{path} is too big to be a bounce report.")
    yield from _parse(str(path), path.read_bytes)


def _parse(name: str, read) -> Iterator[tuple[str, Message | None]]:
    try:
        raw = read()
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:  # noqa: BLE001 - any damaged message is reported and skipped.
        yield name, None
        return
    yield name, message


@dataclass
class Report:
    bounced: int = 0
    already: int = 0
    transient: int = 0
    foreign: int = 0
    not_dsn: int = 0
    unknown: int = 0
    damaged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return (
            self.bounced
            + self.already
            + self.transient
            + self.foreign
            + self.not_dsn
            + self.unknown
            + self.damaged
        )


def process_paths(paths: Iterable[Path], *, now: datetime | None = None) -> Report:
    """Read bounce reports from each path and record the permanent bounces of our
    messages. Unreadable paths are listed in `errors`; the others are processed."""
    report = Report()
    for path in paths:
        try:
            for _name, message in read_messages(path):
                if message is None:
                    report.damaged += 1
                    continue
                found, kind = bounces_in(message)
                if kind == "foreign":
                    report.foreign += 1
                elif kind == "not-dsn":
                    report.not_dsn += 1
                elif kind == "transient":
                    report.transient += 1
                for bounce in found:
                    outcome = record_bounce(
                        bounce.mailout_id, bounce.recipient_id, bounce.status, now=now
                    )
                    setattr(report, outcome, getattr(report, outcome) + 1)
        except BounceInputError as error:
            report.errors.append(str(error))
        except (OSError, mailbox.Error) as error:
            report.errors.append(f"{path} cannot be read: {error}.")
    return report
