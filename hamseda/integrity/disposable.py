"""Disposable (throw-away) e-mail domains: refused on the sign form.

The list comes from the maintained PyPI package `disposable-email-domains` (about
10,000 domains, updated by its community; pinned in pyproject.toml and upgraded with
releases), plus a local table (integrity.DisposableDomain) that operators keep with
`hamseda disposable-domains …` between releases: domains to add, and exceptions for a
domain the package lists wrongly. An exception always wins.

A subdomain of a listed domain is disposable too (x.mailinator.com), as such services
hand out endless subdomains. The lookup is a set membership test in memory: the
package's sets, and the small local table read once a minute per process.
"""

import time
from datetime import datetime

from disposable_email_domains import allowlist as PACKAGE_ALLOWLIST
from disposable_email_domains import blocklist as PACKAGE_BLOCKLIST
from django.utils import timezone

from hamseda.integrity.models import DisposableDomain

MAX_DOMAIN_LENGTH = 253


class BadDomain(ValueError):
    """Not something that can be an e-mail domain."""


def normalise_domain(value: str) -> str:
    """Lower-case, without a leading "@" or trailing dot; IDNs in their ASCII form."""
    domain = value.strip().lstrip("@").rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise BadDomain(value) from error
    if not domain or "." not in domain or len(domain) > MAX_DOMAIN_LENGTH or " " in domain:
        raise BadDomain(value)
    return domain


def _candidates(domain: str) -> list[str]:
    """The domain and each parent with at least two labels: a.b.example.com →
    [a.b.example.com, b.example.com, example.com]."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def is_disposable(domain: str) -> bool:
    try:
        domain = normalise_domain(domain)
    except BadDomain:
        return False  # The form has already checked the address; nothing to refuse here.
    candidates = _candidates(domain)
    local = _local_entries()
    # The most specific entry decides: an exception for a.example.com beats a block of
    # example.com, and a local entry beats the package's.
    for candidate in candidates:
        if candidate in local:
            return not local[candidate]
        if candidate in PACKAGE_ALLOWLIST:
            return False
        if candidate in PACKAGE_BLOCKLIST:
            return True
    return False


# The local table, read once a minute per process rather than queried for every sign:
# it holds tens or hundreds of domains. A change made by the command is seen at once in
# the process that made it, and within LOCAL_SECONDS everywhere else.
LOCAL_SECONDS = 60
_local: dict = {"entries": None, "read_at": 0.0}


def _local_entries() -> dict[str, bool]:
    if _local["entries"] is None or time.monotonic() - _local["read_at"] > LOCAL_SECONDS:
        _local["entries"] = dict(DisposableDomain.objects.values_list("domain", "allowed"))
        _local["read_at"] = time.monotonic()
    return _local["entries"]


def forget() -> None:
    """Read the local table again on the next lookup."""
    _local["entries"] = None


def add(domain: str, *, allowed: bool = False, note: str = "", now: datetime | None = None):
    """Add a local entry (or change an existing one): disposable, or an exception."""
    domain = normalise_domain(domain)
    entry, _ = DisposableDomain.objects.update_or_create(
        domain=domain,
        defaults={"allowed": allowed, "note": note[:200], "added_at": now or timezone.now()},
    )
    forget()
    return entry


def remove(domain: str) -> bool:
    deleted, _ = DisposableDomain.objects.filter(domain=normalise_domain(domain)).delete()
    forget()
    return bool(deleted)


def read_domain_file(lines) -> tuple[list[str], list[str]]:
    """Domains from a list, one a line (the package's format); '#' starts a comment.
    Returns (domains, lines that are not domains)."""
    domains, bad = [], []
    for raw in lines:
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            domains.append(normalise_domain(text))
        except BadDomain:
            bad.append(text)
    return domains, bad


def update_from(domains: list[str], *, replace: bool = False, now=None) -> dict[str, int]:
    """Add every domain as disposable (keeping local exceptions as they are). With
    `replace`, local disposable entries not in the list are removed."""
    now = now or timezone.now()
    existing = set(DisposableDomain.objects.values_list("domain", flat=True))
    new = [d for d in dict.fromkeys(domains) if d not in existing]
    DisposableDomain.objects.bulk_create(
        [DisposableDomain(domain=d, allowed=False, note="update", added_at=now) for d in new],
        ignore_conflicts=True,
        batch_size=500,
    )
    removed = 0
    if replace:
        removed, _ = (
            DisposableDomain.objects.filter(allowed=False).exclude(domain__in=set(domains)).delete()
        )
    forget()
    return {"added": len(new), "removed": removed}
