"""A few-second cache of anonymous API reads, in front of Django (hamseda/wsgi.py).

At a viral peak most API requests are the same few reads: one petition, its count,
polled by every embedded widget. Django's whole middleware stack and a few queries per
read would cap the server at a few hundred answers a second; answering a repeated read
from memory, before Django runs, costs almost nothing (docs/api.md, "Figures"). The
price is a lag: a count may be up to a few seconds behind, which the answer's own
`Cache-Control: max-age` allows anyway, and the `Age` header tells.

What is cached, and why that cannot leak anything personal:

1. Only GET and HEAD of /api/v1/ without credentials: a request carrying an
   `Authorization` header, any header with "key" or "token" in its name (the partners'
   API keys) or Django's session cookie goes straight to Django, and is never answered
   from the cache nor stored in it.
2. Only answers that Django marked `Cache-Control: public` (hamseda.api.http does so for
   every read), with status 200 or 404, no `Set-Cookie`, and no `Vary` on `Cookie`,
   `Authorization` or `*`, of at most MAX_BODY bytes. So an answer that depends on who
   asks is never stored, and the key can be the full path with its query string (and
   the host and scheme, which Django refuses or redirects by).
   Writes (any other method) and server errors are never stored.
3. Entries live `seconds` (HAMSEDA_API_CACHE_SECONDS, default 5; or the answer's
   max-age, if shorter), then the next request goes to Django again. A request with
   `Cache-Control: no-cache` skips the lookup (and refreshes the entry).
4. The stored status, headers and body are replayed as they were, with an `Age`; a
   request whose `If-None-Match` names the stored `ETag` gets a 304 without body.

Each worker process keeps its own entries in a dict (LocalStore), bounded in bytes.
Django's cache (Redis with HAMSEDA_REDIS_URL) can hold them instead (`shared`), so that
all processes share them; measured, that is slower and saves nothing worth having (at
most one render per worker per few seconds): bench/api_reads.py, docs/api.md.
"""

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from hashlib import sha256

from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils.http import parse_etags

PREFIX = "/api/v1/"
STORED_STATUSES = frozenset({200, 404})
MAX_BODY = 512 * 1024
# Per worker process; the oldest entries go first beyond it.
MAX_BYTES = 64 * 1024 * 1024
# Any of these in a request header's name means it may carry credentials.
CREDENTIAL_MARKERS = ("AUTH", "KEY", "TOKEN")
UNSHAREABLE_VARY = frozenset({"cookie", "authorization", "*"})
# Not repeated in a 304 (RFC 9110, 15.4.5: it has no content).
CONTENT_HEADERS = frozenset({"content-type", "content-length", "content-language"})


@dataclass(frozen=True)
class Entry:
    status: str  # "200 OK"
    headers: tuple[tuple[str, str], ...]
    body: bytes
    stored_at: float
    expires_at: float

    @property
    def etag(self) -> str | None:
        return next((value for name, value in self.headers if name.lower() == "etag"), None)

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(n) + len(v) for n, v in self.headers) + 100


class LocalStore:
    """Entries in this process's memory, at most MAX_BYTES of them."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: dict[str, Entry] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        return self._entries.get(key)  # A dict read is atomic; no lock needed.

    def put(self, key: str, entry: Entry) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            # Make room: expired entries first, then the oldest stored.
            if self._bytes + entry.size > self.max_bytes:
                for stale_key, stale in list(self._entries.items()):
                    if stale.expires_at <= entry.stored_at:
                        self._bytes -= self._entries.pop(stale_key).size
            while self._entries and self._bytes + entry.size > self.max_bytes:
                self._bytes -= self._entries.pop(next(iter(self._entries))).size
            self._entries[key] = entry
            self._bytes += entry.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


class SharedStore:
    """Entries in Django's cache (Redis with HAMSEDA_REDIS_URL), shared by processes.
    Time there is wall-clock time, since the processes share no monotonic clock."""

    def __init__(self) -> None:
        from django.core.cache import cache

        self.cache = cache

    @staticmethod
    def _key(key: str) -> str:
        return "apicache:" + sha256(key.encode()).hexdigest()

    def get(self, key: str) -> Entry | None:
        return self.cache.get(self._key(key))

    def put(self, key: str, entry: Entry) -> None:
        timeout = max(1, round(entry.expires_at - entry.stored_at))
        self.cache.set(self._key(key), entry, timeout=timeout)


def _max_age(headers: Iterable[tuple[str, str]]) -> tuple[bool, float | None]:
    """(whether the answer is marked public and storable, its max-age if any)."""
    public, age = False, None
    for name, value in headers:
        if name.lower() != "cache-control":
            continue
        for directive in value.lower().split(","):
            directive = directive.strip()
            if directive in {"private", "no-store", "no-cache"}:
                return False, None
            if directive == "public":
                public = True
            elif directive.startswith("max-age="):
                try:
                    age = float(directive.removeprefix("max-age="))
                except ValueError:
                    return False, None
    return public, age


def may_store(status: str, headers: Iterable[tuple[str, str]], body: bytes) -> bool:
    """Whether an answer to an anonymous GET may be kept and given to anyone (rule 2)."""
    headers = list(headers)
    if int(status.split(" ", 1)[0]) not in STORED_STATUSES or len(body) > MAX_BODY:
        return False
    for name, value in headers:
        lowered = name.lower()
        if lowered == "set-cookie":
            return False
        if lowered == "vary" and {v.strip().lower() for v in value.split(",")} & (UNSHAREABLE_VARY):
            return False
    public, _age = _max_age(headers)
    return public


class FastCache:
    """WSGI middleware: see the module's docstring."""

    def __init__(
        self,
        app: Callable,
        *,
        seconds: float,
        store=None,
        clock: Callable[[], float] = time.monotonic,
        prefix: str = PREFIX,
    ) -> None:
        self.app = app
        self.seconds = seconds
        self.store = store if store is not None else LocalStore()
        self.clock = clock
        self.prefix = prefix

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not self._anonymous_read(environ):
            return self.app(environ, start_response)
        key = self._key(environ)
        now = self.clock()
        if not _no_cache(environ):
            entry = self.store.get(key)
            if entry is not None and entry.expires_at > now:
                return self._answer(entry, environ, start_response, age=now - entry.stored_at)
        entry = self._render(environ, now)
        if environ["REQUEST_METHOD"] == "GET" and may_store(
            entry.status, entry.headers, entry.body
        ):
            self.store.put(key, entry)
        return self._answer(entry, environ, start_response, age=None)

    @staticmethod
    def _key(environ: dict) -> str:
        """The path and query, and what Django decides a refusal or a redirect by: the
        host (ALLOWED_HOSTS) and the scheme (HTTPS redirect), so that a request Django
        would refuse or redirect never gets an entry stored for another."""
        proxy_header = (settings.SECURE_PROXY_SSL_HEADER or ("",))[0]
        return "\n".join(
            [
                environ.get("HTTP_HOST", ""),
                environ.get("wsgi.url_scheme", ""),
                environ.get(proxy_header, "") if proxy_header else "",
                environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
            ]
        )

    def _anonymous_read(self, environ: dict) -> bool:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return False
        if not environ.get("PATH_INFO", "").startswith(self.prefix):
            return False
        for name in environ:
            if name.startswith("HTTP_") and any(m in name for m in CREDENTIAL_MARKERS):
                return False
        cookies = environ.get("HTTP_COOKIE")
        return not (cookies and settings.SESSION_COOKIE_NAME in parse_cookie(cookies))

    def _render(self, environ: dict, now: float) -> Entry:
        """Ask Django, without the request's If-None-Match, so that the full answer can
        be stored; the 304 is then made from it (`_answer`)."""
        inner = {k: v for k, v in environ.items() if k != "HTTP_IF_NONE_MATCH"}
        captured: dict = {}
        chunks: list[bytes] = []

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        result = self.app(inner, capture)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = captured["status"], tuple(captured["headers"])
        _public, max_age = _max_age(headers)
        lifetime = self.seconds if max_age is None else min(self.seconds, max_age)
        return Entry(status, headers, b"".join(chunks), stored_at=now, expires_at=now + lifetime)

    @staticmethod
    def _answer(
        entry: Entry, environ: dict, start_response: Callable, *, age: float | None
    ) -> Iterable[bytes]:
        extra = [] if age is None else [("Age", str(int(age)))]
        if entry.status.startswith("200 ") and _matches(environ, entry.etag):
            headers = [(n, v) for n, v in entry.headers if n.lower() not in CONTENT_HEADERS]
            start_response("304 Not Modified", headers + extra)
            return []
        start_response(entry.status, list(entry.headers) + extra)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [entry.body]


def _no_cache(environ: dict) -> bool:
    return "no-cache" in environ.get("HTTP_CACHE_CONTROL", "").lower()


def _matches(environ: dict, etag: str | None) -> bool:
    """If-None-Match against the stored ETag, by weak comparison (RFC 9110, 13.1.2)."""
    wanted = environ.get("HTTP_IF_NONE_MATCH")
    if not wanted or not etag:
        return False
    tags = parse_etags(wanted)
    if "*" in tags:
        return True
    strip = lambda tag: tag.removeprefix("W/")  # noqa: E731 - one comparison, twice.
    return strip(etag) in {strip(tag) for tag in tags}


def wrap(app: Callable) -> Callable:
    """The WSGI application behind the cache that HAMSEDA["API_CACHE"] asks for:
    "local" (the default), "shared", or "off"."""
    options = getattr(settings, "HAMSEDA", {})
    kind = options.get("API_CACHE", "local")
    seconds = options.get("API_CACHE_SECONDS", 5)
    if kind not in {"local", "shared", "off"}:
        # A typo must stop the start, not quietly pick something.
        raise RuntimeError(f'HAMSEDA_API_CACHE must be "local", "shared" or "off", not {kind!r}.')
    if kind == "off" or not seconds:
        return app
    if kind == "shared":
        # Processes (and machines) share no monotonic clock: wall-clock time there.
        return FastCache(app, seconds=seconds, store=SharedStore(), clock=time.time)
    return FastCache(app, seconds=seconds, store=LocalStore())
