"""Partner API keys: made and revoked by an organisation's owners, checked on every
write request, each with its scopes and rate limit (docs/api-write.md).

A key reads "hsk_<prefix>_<secret>": `prefix` (12 hex digits) finds the row, and the
database keeps only the SHA-256 of the whole key, so a stolen database holds no usable
key. The key is shown once, when made; nobody can show it again. A refused key gets a
different, clear answer for each reason (unknown, revoked, expired), but revoked and
expired are told only to whoever holds the whole key.

Every creation and revocation is written to the organisation's audit log.
"""

import hashlib
import hmac
import secrets
import string
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from hamseda.api.models import ApiKey, Scope
from hamseda.integrity import audit, limits
from hamseda.integrity.models import AuditAction
from hamseda.orgs.models import Organization

KEY_MARK = "hsk"
PREFIX_BYTES = 6  # 12 hex digits.
SECRET_ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 40  # About 238 bits.
# Longer than any key we make: refused without a database query.
MAX_KEY_LENGTH = 100
# `last_used_at` is written at most this often, so that a busy key does not write its
# row on every request.
LAST_USED_EVERY = timedelta(minutes=1)
RATE_RULE = "api_key_minute"
# Compared against when the prefix is unknown, so an unknown key costs the same time.
_NO_HASH = "0" * 64


class KeyRefused(Exception):
    """A key that does not let its holder in; `code` says why (docs/api-write.md)."""

    code = "invalid_key"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownKey(KeyRefused):
    code = "invalid_key"


class RevokedKey(KeyRefused):
    code = "revoked_key"


class ExpiredKey(KeyRefused):
    code = "expired_key"


class ScopeMissing(Exception):
    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class KeyRequestRefused(ValueError):
    """A key the owner asked for that cannot be made; the message says why."""


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _new_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def _parse(raw: str) -> str | None:
    """The prefix of a well-formed key, or None."""
    if not raw or len(raw) > MAX_KEY_LENGTH:
        return None
    mark, _sep, rest = raw.partition("_")
    prefix, _sep, secret = rest.partition("_")
    well_formed = (
        mark == KEY_MARK
        and len(prefix) == 2 * PREFIX_BYTES
        and all(char in string.hexdigits.lower() for char in prefix)
        and len(secret) == SECRET_LENGTH
        and all(char in SECRET_ALPHABET for char in secret)
    )
    return prefix if well_formed else None


def _audit_subject(key: ApiKey) -> str:
    return f"api-key {key.prefix}"


def create_key(
    organization: Organization,
    *,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    rate_per_minute: int | None = None,
    created_by,
    now: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Make a key for the organisation's partner use; return it and its plain text,
    which is shown once and never stored."""
    now = now or timezone.now()
    name = name.strip()
    wanted = sorted(set(scopes))
    if not name:
        raise KeyRequestRefused(_("Give the key a name, e.g. the partner website it is for."))
    if not wanted or not set(wanted) <= set(Scope.values):
        raise KeyRequestRefused(_("Choose at least one thing the key may do."))
    if expires_at is not None and expires_at <= now:
        raise KeyRequestRefused(_("The expiry date must be in the future."))
    rate = (
        ApiKey._meta.get_field("rate_per_minute").default
        if rate_per_minute is None
        else rate_per_minute
    )
    if rate < 1:
        raise KeyRequestRefused(_("A key needs at least one request a minute."))
    with transaction.atomic():
        key, plain = _insert_key(organization, name, wanted, expires_at, rate, created_by, now)
        audit.record(
            AuditAction.API_KEY_CREATED,
            organization=organization,
            actor=created_by,
            subject=_audit_subject(key),
            details={
                "name": key.name,
                "scopes": key.scopes,
                "expires_at": expires_at.isoformat(timespec="seconds") if expires_at else "",
                "rate_per_minute": key.rate_per_minute,
            },
            now=now,
        )
    return key, plain


def _insert_key(
    organization, name, scopes, expires_at, rate, created_by, now
) -> tuple[ApiKey, str]:
    """Insert a new key with a fresh prefix. A prefix is 48 random bits: a clash is all
    but impossible, and retried in its own savepoint."""
    for _attempt in range(3):
        prefix = secrets.token_hex(PREFIX_BYTES)
        plain = f"{KEY_MARK}_{prefix}_{_new_secret()}"
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    organization=organization,
                    name=name[:100],
                    prefix=prefix,
                    key_hash=key_hash(plain),
                    scopes=" ".join(scopes),
                    created_by=created_by if getattr(created_by, "pk", None) else None,
                    created_at=now,
                    expires_at=expires_at,
                    rate_per_minute=rate,
                )
        except IntegrityError:
            continue
        return key, plain
    raise KeyRequestRefused(_("Please try again."))  # pragma: no cover - three clashes.


def revoke_key(key: ApiKey, *, by, now: datetime | None = None) -> bool:
    """Revoke a key at once; True if this call revoked it (False: it already was)."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
        if changed:
            audit.record(
                AuditAction.API_KEY_REVOKED,
                organization=key.organization,
                actor=by,
                subject=_audit_subject(key),
                details={"name": key.name},
                now=now,
            )
    key.refresh_from_db(fields=["revoked_at"])
    return bool(changed)


def authenticate(raw: str, *, now: datetime | None = None) -> ApiKey:
    """The key `raw` names, if it lets its holder in; else KeyRefused saying why.

    The whole key is compared by its SHA-256 in constant time; revoked and expired are
    told only after that comparison, so guessing prefixes learns nothing.
    """
    now = now or timezone.now()
    prefix = _parse(raw)
    key = None
    if prefix is not None:
        key = ApiKey.objects.select_related("organization").filter(prefix=prefix).first()
    matches = hmac.compare_digest(key_hash(raw or ""), key.key_hash if key else _NO_HASH)
    if key is None or not matches:
        raise UnknownKey(
            _(
                "This API key is not valid. Check that you sent all of it (it starts with "
                "hsk_); an owner of your organisation can make a new one."
            )
        )
    if key.revoked_at is not None:
        raise RevokedKey(
            _(
                "This API key was revoked on %(date)s. Ask an owner of your organisation "
                "for a new one."
            )
            % {"date": date_format(key.revoked_at, "Y-m-d")}
        )
    if key.expires_at is not None and key.expires_at <= now:
        raise ExpiredKey(
            _("This API key expired on %(date)s. Ask an owner of your organisation for a new one.")
            % {"date": date_format(key.expires_at, "Y-m-d")}
        )
    _touch(key, now)
    return key


def _touch(key: ApiKey, now: datetime) -> None:
    """Note that the key was used: a conditional UPDATE, at most once a minute."""
    if key.last_used_at is not None and key.last_used_at > now - LAST_USED_EVERY:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY)
    ).update(last_used_at=now)
    key.last_used_at = now


def require_scope(key: ApiKey, scope: str | None) -> None:
    if scope is not None and scope not in key.scope_list:
        raise ScopeMissing(scope)


def check_rate(key: ApiKey, *, now: datetime | None = None) -> None:
    """Count one request of the key (sign and RSVP together) and refuse it over
    `rate_per_minute` in a sliding minute (integrity.limits; 0: no limit)."""
    if key.rate_per_minute <= 0:
        return
    window = limits.Window(RATE_RULE, str(key.pk), 60, key.rate_per_minute)
    [count] = limits.hit([window], now=now)
    if count.over:
        raise RateLimited(count.retry_after)


def key_state(key: ApiKey, now: datetime) -> str:
    """ "active", "revoked" or "expired", for the owners' page."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def keys_of(organization: Organization):
    return ApiKey.objects.filter(organization=organization).order_by("-created_at", "-pk")
