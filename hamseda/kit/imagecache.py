"""Kit files cached by what they show, and served with HTTP caching headers.

A kit image is a pure function of its kind, its size, the words on it
(Content.fingerprint(): the count is already rounded by content_for, so it changes
every few minutes at most) and the campaign's design (content.design_key). The cache
key is a hash of those, so an entry never goes stale: a new count or a new design makes
a new key, and old entries simply expire. The same hash is the response's strong ETag.

At a peak, thousands of link previews ask for one card at once. Django's cache (Redis
in production, each process's memory otherwise) answers all but the first; for the
first, a lock per key makes concurrent misses in one process wait for a single render
instead of each rendering the same image (a "thundering herd").
"""

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

# Bump when a renderer changes how images look, so a deploy does not serve old images
# from a shared cache.
VERSION = "1"
# How long a rendered file stays in the cache. The key changes with the rounded count,
# so a longer lifetime only keeps entries nobody asks for any more.
CACHE_SECONDS = 15 * 60
# What browsers and link-preview fetchers may keep without asking again.
MAX_AGE = 300
MAX_LOCKS = 2048
# How long an address (petition, language, size) remembers which cached file it shows:
# a hit then needs no database query at all. The count on the image may be this much
# older than the page's; a petition never goes from public back to private.
ALIAS_SECONDS = 10

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class CachedFile:
    data: bytes
    key: str  # A hex hash; the ETag is this in quotes.
    content_type: str

    @property
    def etag(self) -> str:
        return f'"{self.key}"'


def cache_key(kind: str, size: str, content_fingerprint: str, design_key: str) -> str:
    """The hex hash that names one rendered file, in the cache and as its ETag."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (VERSION, kind, size, content_fingerprint, design_key):
        digest.update(part.encode() + b"\x1f")
    return digest.hexdigest()


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            if len(_locks) >= MAX_LOCKS:
                # Forget idle locks. A thread that already holds a forgotten lock's
                # object still renders correctly; at worst one image renders twice.
                for idle in [k for k, held in _locks.items() if not held.locked()]:
                    del _locks[idle]
            lock = _locks[key] = threading.Lock()
        return lock


def cached_file(
    kind: str,
    size: str,
    content_fingerprint: str,
    design_key: str,
    render: Callable[[], bytes],
    *,
    content_type: str = "image/png",
) -> CachedFile:
    """The file from the cache, or rendered by `render()` once and stored.

    1. Look the key up; a hit is the common case and takes no lock.
    2. On a miss, take the key's lock: of concurrent misses in this process one
       renders, the others wait for it.
    3. Under the lock, look again (the render we waited for has stored it), and only
       then render and store.
    """
    key = cache_key(kind, size, content_fingerprint, design_key)
    name = f"kit:file:{key}"
    data = cache.get(name)
    if data is None:
        with _lock_for(key):
            data = cache.get(name)
            if data is None:
                data = render()
                cache.set(name, data, CACHE_SECONDS)
    return CachedFile(data=data, key=key, content_type=content_type)


def image_alias(slug: str, size: str, language: str) -> str:
    """The alias of a petition's share image address (/p/<slug>/kit/<size>.png)."""
    return f"image:{language}:{size}:{slug}"


def by_alias(alias: str) -> CachedFile | None:
    """The file an address showed a few seconds ago, if both are still cached."""
    known = cache.get(f"kit:alias:{alias}")
    if known is None:
        return None
    key, content_type = known
    data = cache.get(f"kit:file:{key}")
    if data is None:
        return None
    return CachedFile(data=data, key=key, content_type=content_type)


def remember_alias(alias: str, file: CachedFile) -> None:
    cache.set(f"kit:alias:{alias}", (file.key, file.content_type), ALIAS_SECONDS)


def forget_aliases(aliases: list[str]) -> None:
    """Drop remembered addresses, so that they show a new design at once."""
    cache.delete_many([f"kit:alias:{alias}" for alias in aliases])


def _matches(header: str, etag: str) -> bool:
    """Does an If-None-Match header name this ETag? (RFC 9110: weak comparison.)"""
    if header.strip() == "*":
        return True
    candidates = [part.strip() for part in header.split(",")]
    return any(c.removeprefix("W/") == etag for c in candidates)


def file_response(
    request: HttpRequest,
    file: CachedFile,
    *,
    filename: str = "",
    attachment: bool = False,
    max_age: int = MAX_AGE,
) -> HttpResponse:
    """200 with the bytes (none for HEAD), or 304 if the client has this version.

    Public caching for a few minutes: the same URL shows a newer count later, and the
    ETag lets a client check cheaply whether it changed."""
    if _matches(request.headers.get("If-None-Match", ""), file.etag):
        response = HttpResponse(status=304)
        del response["Content-Type"]
    else:
        body = b"" if request.method == "HEAD" else file.data
        response = HttpResponse(body, content_type=file.content_type)
        response["Content-Length"] = str(len(file.data))
        if filename:
            kind = "attachment" if attachment else "inline"
            response["Content-Disposition"] = f'{kind}; filename="{filename}"'
    response["ETag"] = file.etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    # The image of /fa/… differs from the English one at the same path after the prefix;
    # nothing in the request headers changes the answer.
    response["X-Content-Type-Options"] = "nosniff"
    return response
