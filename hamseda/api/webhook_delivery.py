"""Sending webhook deliveries: the address guard, the signature, retries.

`deliver_due()` is run by the worker every 15 s (api.tasks, runtime.SCHEDULE):

1. It takes the due deliveries, oldest first, and claims each with a conditional UPDATE
   (still queued, attempts unchanged, no live lease → `leased_until = now + LEASE`): of
   two workers reaching for the same row, one wins (healthchecks' pattern, as
   mail.services.deliver does).
2. It resolves the subscriber's host and refuses private, loopback, link-local
   (cloud metadata at 169.254.169.254), multicast and reserved addresses, then connects
   to the address it checked (the Host header and TLS name stay the subscriber's), so
   a second DNS answer cannot point the request inside our network (DNS rebinding).
3. It POSTs the JSON with `Hamseda-Event`, `Hamseda-Delivery` and `Hamseda-Signature:
   t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, without following
   redirects.
4. 2xx: delivered. 410 Gone: the partner asked us to stop; the subscription is switched
   off. Anything else (another status, a timeout, a refused address): retried after
   30 s, 1 min, 2 min, … up to 6 h, 12 attempts in all (about 15 hours); then given up,
   and after 20 deliveries given up in a row the subscription is switched off.

A worker that dies mid-send leaves only its lease, which expires; the row is tried
again. Nothing a partner's server answers is stored but its status code.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
import nacl.exceptions
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.api.models import DeliveryState, WebhookDelivery, WebhookSubscription
from hamseda.vault import crypto

log = logging.getLogger(__name__)

# A POST waits at most this long for the partner (connect, send, each read).
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Longer than any POST can take with TIMEOUT, so a live lease is never taken over.
LEASE = timedelta(minutes=2)
FIRST_RETRY_SECONDS = 30
MAX_RETRY = timedelta(hours=6)
MAX_ATTEMPTS = 12
MAX_FAILURES_IN_A_ROW = 20
# A run of deliver_due() stops claiming after this long, so the scheduled jobs queued
# behind it in the worker (milestones, reminders) are not held up by slow partners.
RUN_SECONDS = 30.0
USER_AGENT = "Hamseda-Webhooks/1"
MAX_URL = 500
# The event of a test delivery (webhooks.send_test); not something one subscribes to.
PING = "ping"


class WebhookRefused(ValueError):
    """A webhook URL or subscription that cannot be used; str() is a message for the
    owner, translated."""


def allow_private() -> bool:
    """HAMSEDA_WEBHOOK_ALLOW_PRIVATE: tests and closed networks only."""
    return bool(settings.HAMSEDA.get("WEBHOOK_ALLOW_PRIVATE", False))


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (one place, so tests can stand in for DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """A globally routable unicast address: not private, loopback, link-local (the
    cloud metadata service), carrier-grade NAT, multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _parts(url: str):
    try:
        parts = urlsplit(url)
        port = parts.port  # Raises ValueError for a port out of range.
    except ValueError:
        raise WebhookRefused(_("That is not a valid web address.")) from None
    return parts, port


def check_url(url: str) -> str:
    """The URL, checked: https (http only with HAMSEDA_WEBHOOK_ALLOW_PRIVATE), a host
    name, no user name or password, and every address it resolves to public.
    Raises WebhookRefused."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise WebhookRefused(
            _("Give the full web address of your endpoint, starting with https://.")
        )
    parts, port = _parts(url)
    schemes = {"https", "http"} if allow_private() else {"https"}
    if parts.scheme not in schemes or not parts.hostname:
        raise WebhookRefused(
            _("Give the full web address of your endpoint, starting with https://.")
        )
    if parts.username or parts.password:
        raise WebhookRefused(
            _("Leave the user name and password out of the address: check our signature instead.")
        )
    if parts.fragment:
        raise WebhookRefused(_("Leave the part after # out of the address."))
    addresses(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    return url


def addresses(host: str, port: int) -> list[str]:
    """The checked addresses to connect to for host:port, or WebhookRefused."""
    try:
        found = [str(ipaddress.ip_address(host))]  # An address literal needs no lookup.
    except ValueError:
        found = []
    try:
        found = found or resolve(host, port)
    except (OSError, UnicodeError):
        raise WebhookRefused(
            _("We could not find the host %(host)s. Check the address.") % {"host": host}
        ) from None
    if not found:
        raise WebhookRefused(
            _("We could not find the host %(host)s. Check the address.") % {"host": host}
        )
    if not allow_private() and not all(is_public(address) for address in found):
        raise WebhookRefused(
            _(
                "%(host)s is a private, local or reserved address. Webhooks go to public "
                "addresses only."
            )
            % {"host": host}
        )
    return found


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>" under the secret>`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 6 hours."""
    return min(timedelta(seconds=FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)), MAX_RETRY)


def new_client() -> httpx.Client:
    """A client for one run: no redirects (each would be a new, unchecked address), no
    proxies from the environment, and no kept-alive connections, since connections go
    to checked addresses with per-subscriber TLS names and must not be reused for
    another subscriber."""
    return httpx.Client(
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"User-Agent": USER_AGENT},
    )


def _pinned(client: httpx.Client, url: str, body: bytes, headers: dict) -> httpx.Request:
    """A POST of `body` to `url` that connects to a checked address of its host."""
    parts, port = _parts(url)
    host = parts.hostname or ""
    address = addresses(host, port or (443 if parts.scheme == "https" else 80))[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{port}" if port else literal
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return client.build_request(
        "POST",
        target,
        content=body,
        headers={**headers, "Host": parts.netloc},
        extensions=extensions,
    )


def describe(error: Exception) -> str:
    """What went wrong, without anything the partner's server said."""
    if isinstance(error, WebhookRefused):
        return str(error)[:300]
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    if isinstance(error, httpx.ConnectError):
        return "could not connect"
    return type(error).__name__


def _post(delivery: WebhookDelivery, client: httpx.Client, now: datetime) -> int:
    """POST one delivery; returns the status code. Raises on network errors."""
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    secret = crypto.unlock(subscription.locked_secret)["secret"]
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Hamseda-Event": delivery.event,
        "Hamseda-Delivery": delivery.event_id,
        "Hamseda-Signature": signature_header(secret, body, int(now.timestamp())),
    }
    request = _pinned(client, subscription.url, body, headers)
    # Streamed and closed unread: nothing of the answer is kept but its status, and a
    # huge answer costs nothing.
    response = client.send(request, stream=True)
    response.close()
    return response.status_code


def _delivered(delivery: WebhookDelivery, status: int, now: datetime) -> str:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.DELIVERED,
        attempts=F("attempts") + 1,
        last_status=status,
        last_error="",
        leased_until=None,
        delivered_at=now,
    )
    # Any success (a ping too) shows the endpoint works again.
    WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(
        failures_in_a_row=0, is_active=True
    )
    return DeliveryState.DELIVERED


def _gone(delivery: WebhookDelivery) -> str:
    """410 Gone: the partner wants no more; switch the subscription off and give up
    its waiting deliveries (a test ping switches it back on)."""
    WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(is_active=False)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.FAILED,
        attempts=F("attempts") + 1,
        last_status=410,
        last_error="410 Gone: subscription switched off",
        leased_until=None,
    )
    WebhookDelivery.objects.filter(
        subscription_id=delivery.subscription_id, state=DeliveryState.QUEUED
    ).exclude(pk=delivery.pk).update(
        state=DeliveryState.FAILED, last_error="Subscription switched off", leased_until=None
    )
    return "gone"


def _failed(delivery: WebhookDelivery, status: int | None, error: str, now: datetime) -> str:
    attempts = delivery.attempts + 1
    failure = {
        "attempts": attempts,
        "last_status": status,
        "last_error": error or f"HTTP {status}",
        "leased_until": None,
    }
    if attempts < MAX_ATTEMPTS and delivery.event != PING:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=now + retry_delay(attempts), **failure
        )
        return "retry"
    # Given up (a ping is tried once: the owner is watching and can send another).
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, **failure)
    if delivery.event != PING:
        WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(
            failures_in_a_row=F("failures_in_a_row") + 1
        )
        WebhookSubscription.objects.filter(
            pk=delivery.subscription_id, failures_in_a_row__gte=MAX_FAILURES_IN_A_ROW
        ).update(is_active=False)
    return DeliveryState.FAILED


def _due(now: datetime):
    """Due deliveries of active subscriptions; pings also to switched-off ones."""
    return WebhookDelivery.objects.filter(
        Q(subscription__is_active=True) | Q(event=PING),
        state=DeliveryState.QUEUED,
        next_attempt_at__lte=now,
    ).filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))


def deliver(
    delivery_id: int, *, now: datetime | None = None, client: httpx.Client | None = None
) -> str:
    """Try to send one delivery (see the module docstring). Returns what happened:
    "delivered", "retry", "failed", "gone", or "not-due" when another worker has it."""
    now = now or timezone.now()
    delivery = _due(now).select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None:
        return "not-due"
    claimed = (
        _due(now)
        .filter(pk=delivery.pk, attempts=delivery.attempts)
        .update(leased_until=now + LEASE)
    )
    if not claimed:
        return "not-due"
    own_client = client is None
    client = client or new_client()
    try:
        status = _post(delivery, client, now)
    except (WebhookRefused, httpx.HTTPError, OSError) as error:
        log.info("webhook %s attempt failed: %s", delivery.pk, describe(error))
        return _failed(delivery, None, describe(error), now)
    except nacl.exceptions.CryptoError:
        # The server secret changed since the subscription was made: nobody can sign
        # for it any more. The owner makes a new webhook.
        return _failed(delivery, None, "signing secret unreadable: make a new webhook", now)
    finally:
        if own_client:
            client.close()
    if 200 <= status < 300:
        return _delivered(delivery, status, now)
    if status == 410:
        return _gone(delivery)
    return _failed(delivery, status, "", now)


def deliver_due(
    *, now: datetime | None = None, client: httpx.Client | None = None, limit: int = 50
) -> int:
    """Send the deliveries that are due, oldest first. Returns how many were delivered."""
    now = now or timezone.now()
    due = list(_due(now).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    if not due:
        return 0
    own_client = client is None
    client = client or new_client()
    started = time.monotonic()
    delivered = 0
    try:
        for delivery_id in due:
            if time.monotonic() - started > RUN_SECONDS:
                break  # The rest wait for the next run, 15 s from now.
            delivered += deliver(delivery_id, now=now, client=client) == DeliveryState.DELIVERED
    finally:
        if own_client:
            client.close()
    return delivered
