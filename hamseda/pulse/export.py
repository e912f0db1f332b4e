"""The organisers' CSV of a campaign's posts, with the authors hashed by default.

The posts are public, but a file of who posted what, passed from hand to hand, is a list
of people. Hashed (the default), each author becomes a code — an HMAC of the platform
and the author's stable id under a key derived from the server secret and the campaign
(vault.crypto), so the same author has the same code in every export of one campaign and
a different one in another campaign's — and the columns that lead straight back to a
person (handle, link, post id) are left out. The text stays: it is what the campaign
studies. Hashing stops a file from being a list of names; it cannot stop someone from
searching a platform for a post's words.

Every export is written to the audit log (PRIVACY.md rule 7) before the first byte goes
out. Deleted posts are left out (nothing is left of them but an id).
"""

import csv
import hashlib
import hmac
import io
from collections.abc import Iterator
from datetime import UTC

from django.utils import timezone

from hamseda.integrity import audit
from hamseda.integrity.models import AuditAction
from hamseda.petitions.delivery.aggregates import spreadsheet_safe
from hamseda.pulse.models import Post
from hamseda.vault import crypto

CHUNK = 2000

HASHED_COLUMNS = [
    "platform",
    "created_at",
    "author",
    "language",
    "kind",
    "hashtags",
    "text",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "engagement",
    "hidden",
]
PLAIN_COLUMNS = [
    "platform",
    "post_id",
    "url",
    "created_at",
    "author_handle",
    "language",
    "kind",
    "hashtags",
    "text",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "engagement",
    "hidden",
]


def author_code(campaign_id: int, platform: str, author_id: str) -> str:
    """16 hex characters standing for one author of one campaign."""
    # vault.crypto derives one key per purpose from the server secret, outside the
    # database; a stolen database cannot be used to test who an author code stands for.
    key = crypto.derive_key(f"pulse-author:{campaign_id}")
    return hmac.new(key, f"{platform}:{author_id}".encode(), hashlib.sha256).hexdigest()[:16]


def record_export(campaign, *, by, hash_authors: bool, now=None) -> None:
    audit.record(
        AuditAction.POSTS_EXPORTED,
        organization=campaign.organization,
        actor=by,
        subject=campaign.slug,
        details={"authors": "hashed" if hash_authors else "handles"},
        now=now or timezone.now(),
    )


def _row(post: Post, hash_authors: bool) -> list:
    created = post.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    counts = [
        post.like_count,
        post.repost_count,
        post.reply_count,
        post.quote_count,
        post.engagement,
        "yes" if post.hidden else "no",
    ]
    safe = spreadsheet_safe
    if hash_authors:
        author = author_code(post.campaign_id, post.platform, post.author_id)
        return [
            post.platform,
            created,
            author,
            safe(post.language),
            post.kind,
            safe(post.hashtags),
            safe(post.text),
            *counts,
        ]
    return [
        post.platform,
        safe(post.platform_id),
        safe(post.url),
        created,
        safe(post.author_handle),
        safe(post.language),
        post.kind,
        safe(post.hashtags),
        safe(post.text),
        *counts,
    ]


def csv_lines(campaign, *, hash_authors: bool = True) -> Iterator[bytes]:
    """The export as CSV, a chunk of lines at a time (a campaign may have millions of
    posts), oldest first, starting with a byte-order mark and the header."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(HASHED_COLUMNS if hash_authors else PLAIN_COLUMNS)
    posts = (
        Post.objects.filter(campaign=campaign, deleted_at__isnull=True)
        .order_by("created_at", "id")
        .iterator(chunk_size=CHUNK)
    )
    for number, post in enumerate(posts, start=1):
        writer.writerow(_row(post, hash_authors))
        if number % CHUNK == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()
