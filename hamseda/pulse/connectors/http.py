"""The one HTTP policy every platform connector follows (docs/pulse-fetching.md).

- Timeouts: 5 s to connect, 20 s to read; a platform that hangs cannot hold a worker.
- Connection errors, timeouts and 5xx answers are retried a few times with exponential
  backoff and jitter, then the fetch stops with `Unavailable`; nothing is lost, the
  next scheduled fetch resumes where this one stopped.
- Rate limits are obeyed, never probed: a 429, or a rate-limit header saying no
  request is left (X `x-rate-limit-*`, Mastodon `X-RateLimit-*`, Bluesky `ratelimit-*`)
  or `Retry-After`, makes the client wait when the wait is short (at most `short_wait`
  seconds, through an injectable `sleep`) and otherwise stop with `RateLimited`, whose
  `not_before` the caller stores on the Source so that the scheduler comes back later.
- 401/403 → `AccessRefused` (the token was revoked or is wrong): the caller marks the
  source as needing attention instead of asking again every few minutes.
- A 200 answer that is not JSON (an HTML error page, a captive portal) → `NotJson`,
  so that nothing from it is stored.
- Redirects are not followed: an API answering with a redirect is misconfigured or not
  the API, and following one could carry the bearer token to another host.
- The User-Agent names Hamseda and its version, but not the install's address: a
  campaign's tracking should not tell a platform (or whoever reads its logs) which
  group runs it.

Every error's message is translated and safe to show an organiser; none holds a token.
"""

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda import __version__
from hamseda.pulse.records import ascii_digits

USER_AGENT = f"Hamseda/{__version__} (self-hosted campaign platform; hashtag pulse)"
TIMEOUT = httpx.Timeout(20.0, connect=5.0)
ATTEMPTS = 4
# Waits up to this many seconds (a short Retry-After, a rate-limit window about to
# reset) are slept in place; longer ones end the fetch and set Source.not_before.
SHORT_WAIT = 30.0
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
# After a 429 that says nothing about when to come back, or a storm of 429s: at least
# this long before the next request, so that we do not add to the storm.
RATE_LIMIT_PAUSE = timedelta(minutes=1)
# An API page of 100 posts is well under 1 MiB; anything far larger is not one.
MAX_BODY = 16 * 1024 * 1024

# (remaining, reset) header pairs of the platforms; httpx compares names case-blind.
RATE_LIMIT_HEADERS = (
    ("x-rate-limit-remaining", "x-rate-limit-reset"),  # X: reset in epoch seconds
    ("x-ratelimit-remaining", "x-ratelimit-reset"),  # Mastodon: reset as ISO 8601
    ("ratelimit-remaining", "ratelimit-reset"),  # Bluesky: reset in epoch seconds
)


class ConnectorError(Exception):
    """A fetch that cannot go on now. The message is translated and safe to show."""


class RateLimited(ConnectorError):
    """The platform asked us to wait until `not_before`."""

    def __init__(self, message: str, not_before: datetime) -> None:
        super().__init__(message)
        self.not_before = not_before


class AccessRefused(ConnectorError):
    """401/403: the token was revoked or is wrong, or the server refuses anonymous
    reading. Asking again will not help until an organiser acts."""


class NotJson(ConnectorError):
    """A 200 answer whose body is not JSON (an error page, a captive portal)."""


class Unavailable(ConnectorError):
    """The platform could not be reached, or kept failing (5xx), after retries."""


class Refused(ConnectorError):
    """Any other answer we cannot use: 4xx, a redirect, a body far too large."""


@dataclass(frozen=True)
class Answer:
    data: Any
    headers: httpx.Headers
    status: int


def parse_reset(value: str, now: datetime) -> datetime | None:
    """When a rate-limit window resets, from any platform's header value: epoch seconds
    (X, Bluesky), seconds from now (the IETF draft), ISO 8601 (Mastodon) or an HTTP
    date. None if the value makes no sense."""
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if number < 0 or number != number:  # negative or NaN
            return None
        if number > 1e9:  # An epoch time; a delay of 30 years is not one.
            try:
                return datetime.fromtimestamp(number, tz=UTC)
            except (OverflowError, OSError, ValueError):
                return None
        return now + timedelta(seconds=number)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def retry_after(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """`Retry-After` as a time: seconds from now, or an HTTP date."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if ascii_digits(value):
        return now + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def exhausted_until(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """The reset time of a rate-limit window with no request left, from whichever
    platform's headers are present; None if requests remain or nothing is said."""
    for remaining_name, reset_name in RATE_LIMIT_HEADERS:
        remaining = (headers.get(remaining_name) or "").strip()
        if remaining and ascii_digits(remaining.lstrip("-")) and int(remaining) <= 0:
            reset = parse_reset(headers.get(reset_name) or "", now)
            if reset is not None:
                return reset
    return None


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class Client:
    """An HTTP client for the platforms' JSON APIs with the policy above.

    One client may serve several requests and sources; it remembers per host when a
    rate-limit window is exhausted, so that the next request waits or stops instead of
    earning a 429. `sleep`, `clock` and `jitter` are injectable so that tests never
    sleep; `transport` lets them use httpx's mock transport.
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = TIMEOUT,
        attempts: int = ATTEMPTS,
        short_wait: float = SHORT_WAIT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = timezone.now,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self.attempts = max(1, attempts)
        self.short_wait = short_wait
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self._limited: dict[str, datetime] = {}
        self.requests = 0

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def limited_until(self, url: str) -> datetime | None:
        """When the host of `url` accepts requests again, if a window is exhausted."""
        until = self._limited.get(_host(url))
        return until if until is not None and until > self.clock() else None

    def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | list[tuple[str, str]] | None = None,
        token: str = "",
        service: str = "",
    ) -> Answer:
        """GET `url` and return its JSON, following the policy in the module docstring.

        `service` names the platform in error messages ("X", "mastodon.social").
        """
        service = service or _host(url)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(1, self.attempts + 1):
            self._wait_for_window(url, service)
            last = attempt == self.attempts
            try:
                status, response_headers, body = self._send(url, params, headers)
            except httpx.TimeoutException:
                if last:
                    raise Unavailable(
                        _("%(service)s did not answer in time, %(n)d times in a row.")
                        % {"service": service, "n": self.attempts}
                    ) from None
                self.sleep(self._backoff(attempt))
                continue
            except (httpx.RequestError, OSError):
                if last:
                    raise Unavailable(
                        _("Could not connect to %(service)s (tried %(n)d times).")
                        % {"service": service, "n": self.attempts}
                    ) from None
                self.sleep(self._backoff(attempt))
                continue
            now = self.clock()
            exhausted = exhausted_until(response_headers, now)
            if exhausted is not None and exhausted > now:
                self._limited[_host(url)] = exhausted
            if status == 429:
                self._after_429(url, service, response_headers, last, attempt)
                continue
            if status >= 500:
                if last:
                    raise Unavailable(
                        _("%(service)s kept failing (HTTP %(status)d); will try again later.")
                        % {"service": service, "status": status}
                    )
                asked = retry_after(response_headers, now)
                if asked is not None and (asked - now).total_seconds() > self.short_wait:
                    raise RateLimited(
                        _("%(service)s is unavailable (HTTP %(status)d) until %(when)s.")
                        % {"service": service, "status": status, "when": _when(asked)},
                        asked,
                    )
                wait = self._backoff(attempt)
                if asked is not None:
                    wait = max(wait, (asked - now).total_seconds())
                self.sleep(wait)
                continue
            if status in (401, 403):
                raise AccessRefused(self._refusal(service, status, bool(token)))
            if 300 <= status < 400:
                raise Refused(
                    _(
                        "%(service)s answered with a redirect to %(where)s instead of data; "
                        "check the address."
                    )
                    % {
                        "service": service,
                        "where": _host(response_headers.get("location", "")) or "?",
                    }
                )
            if status >= 400:
                raise Refused(
                    _("%(service)s refused the request (HTTP %(status)d): %(detail)s")
                    % {"service": service, "status": status, "detail": _detail(body)}
                )
            return Answer(self._json(body, service), response_headers, status)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- steps ----------------------------------------------------------------------

    def _send(
        self, url: str, params: Any, headers: dict[str, str]
    ) -> tuple[int, httpx.Headers, bytes]:
        self.requests += 1
        with self._http.stream("GET", url, params=params, headers=headers) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY:
                    raise Refused(
                        _("%(service)s sent an answer larger than %(mib)d MiB; not read.")
                        % {"service": _host(url), "mib": MAX_BODY // (1024 * 1024)}
                    )
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)

    def _wait_for_window(self, url: str, service: str) -> None:
        host = _host(url)
        until = self._limited.get(host)
        if until is None:
            return
        wait = (until - self.clock()).total_seconds()
        if wait > self.short_wait:
            raise RateLimited(
                _("%(service)s's rate limit is used up until %(when)s; fetching resumes then.")
                % {"service": service, "when": _when(until)},
                until,
            )
        # Forget the window before sleeping: the clock may be frozen in tests, and the
        # platform's next answer tells us afresh.
        del self._limited[host]
        if wait > 0:
            self.sleep(wait)

    def _after_429(
        self, url: str, service: str, headers: httpx.Headers, last: bool, attempt: int
    ) -> None:
        now = self.clock()
        until = retry_after(headers, now) or exhausted_until(headers, now)
        if until is None:
            until = now + RATE_LIMIT_PAUSE
        wait = max((until - now).total_seconds(), 0.0)
        if last or wait > self.short_wait:
            # A storm of short waits, or a long one: stop for at least a minute.
            not_before = max(until, now + RATE_LIMIT_PAUSE) if last else until
            self._limited[_host(url)] = not_before
            raise RateLimited(
                _("%(service)s asked us to slow down (HTTP 429); fetching resumes at %(when)s.")
                % {"service": service, "when": _when(not_before)},
                not_before,
            )
        self._limited.pop(_host(url), None)
        self.sleep(wait if wait > 0 else self._backoff(attempt))

    def _backoff(self, attempt: int) -> float:
        """1 s, 2 s, 4 s … (capped), each scaled by a random 0.5–1.5 so that workers
        retrying after the same outage do not return in step."""
        return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) * (0.5 + self.jitter())

    @staticmethod
    def _refusal(service: str, status: int, with_token: bool) -> str:
        if with_token:
            return _(
                "%(service)s refused the token (HTTP %(status)d): it was revoked or is "
                "wrong. Give a new token to resume fetching."
            ) % {"service": service, "status": status}
        return _(
            "%(service)s refused to answer (HTTP %(status)d): it may not allow reading "
            "without an account, or it blocks this server."
        ) % {"service": service, "status": status}

    @staticmethod
    def _json(body: bytes, service: str) -> Any:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict | list):
            looks_like = body.lstrip()[:1]
            raise NotJson(
                _(
                    "%(service)s answered with a web page instead of data (%(what)s); "
                    "nothing was stored. An error page or a network login page may be "
                    "in the way."
                )
                % {
                    "service": service,
                    "what": _("HTML") if looks_like == b"<" else _("not JSON"),
                }
            )
        return data


def _detail(body: bytes) -> str:
    """A platform's own words about an error, short and on one line."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _("no details")
    if isinstance(data, dict):
        for key in ("detail", "error_description", "message", "error", "title"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())[:160]
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            value = errors[0].get("message") or errors[0].get("detail")
            if isinstance(value, str):
                return " ".join(value.split())[:160]
    return _("no details")
