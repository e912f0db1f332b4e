"""Who is the client? The socket peer, unless that peer is a trusted reverse proxy.

Used only to decide things at request time (e.g. loopback access to /metrics); the
address itself is never stored or logged (PRIVACY.md rule 4).
"""

import ipaddress
from functools import cache

from django.conf import settings


@cache
def _trusted_networks() -> tuple:
    return tuple(ipaddress.ip_network(item, strict=False) for item in settings.TRUSTED_PROXIES)


def _parse(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address) -> bool:
    return any(address in network for network in _trusted_networks())


def client_address(request):
    """The client's address: walk X-Forwarded-For from the right past trusted proxies."""
    peer = _parse(request.META.get("REMOTE_ADDR", ""))
    if peer is None or not _trusted(peer):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _parse(hop)
        if address is None:
            return None
        if not _trusted(address):
            return address
    return peer


def is_loopback(request) -> bool:
    address = client_address(request)
    return address is not None and address.is_loopback


def client_fingerprint(request, *, now=None) -> str:
    """A daily-rotating keyed fingerprint of the client's address, for rate limits and
    fraud trends (PRIVACY.md rule 4): 16 hex characters, never the address itself.

    The key is derived from the server secret and the UTC date, so yesterday's
    fingerprints cannot be linked to today's, and nobody without the server secret can
    test an address against them. IPv6 clients are taken per /64, the block one
    household or phone usually gets, so an address rotating inside it stays one client.
    """
    from hamseda.vault.crypto import day_fingerprint

    address = client_address(request)
    if address is None:
        text = "unknown"
    elif address.version == 6 and address.ipv4_mapped is None:
        text = str(ipaddress.ip_network(f"{address}/64", strict=False))
    else:
        text = str(getattr(address, "ipv4_mapped", None) or address)
    return day_fingerprint("network", text, now=now)
