"""Owners see and rotate their organisation's sealing keys (PRIVACY.md rule 1).

A new key pair is best made in the owner's browser (static/hamseda/keys.js with the
bundled libsodium): the secret key is saved to a file there and only the public key is
posted here. Without JavaScript the server makes the pair, shows the secret key once in
the answer (never stored, never logged, not cached) and forgets it; the owner then posts
the public key back, so that nothing changes until they have saved the secret.
Owners only, with two-factor login (orgs.permissions); every change is audited by
orgs.services.adopt_public_key.
"""

import base64

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hamseda.orgs import services
from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import CAN_MANAGE, check_access
from hamseda.orgs.sealing_keys import (
    check_public_key,
    key_file_name,
    key_file_text,
    list_keys,
)
from hamseda.petitions.views.organize import organizer_view
from hamseda.vault import crypto
from hamseda.vault.csp import allow_sodium


def _organization(request: HttpRequest, slug: str) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    check_access(request.user, organization, CAN_MANAGE, two_factor=True)
    return organization


def _page(
    request: HttpRequest, organization: Organization, *, error: str = "", status: int = 200
) -> HttpResponse:
    response = render(
        request,
        "orgs/keys.html",
        {"organization": organization, "keys": list_keys(organization), "error": error},
        status=status,
    )
    return allow_sodium(response)  # The page makes key pairs with libsodium.


@organizer_view
@require_safe
def keys(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, _organization(request, slug))


@organizer_view
@require_POST
def adopt(request: HttpRequest, slug: str) -> HttpResponse:
    """Make a posted public key the organisation's sealing key."""
    organization = _organization(request, slug)
    public_key = request.POST.get("public_key", "").strip()
    try:
        check_public_key(public_key)
    except crypto.UnusableKey:
        return _page(
            request,
            organization,
            status=400,
            error=_(
                "That is not a public key, so nothing was changed. Make a new key pair "
                "and try again."
            ),
        )
    try:
        key_id = services.adopt_public_key(organization, public_key, actor=request.user)
    except crypto.UnusableKey:
        return _page(
            request,
            organization,
            status=400,
            error=_("This key is already known, so nothing was changed. Make a new key pair."),
        )
    messages.success(
        request,
        _(
            "The key %(key_id)s now seals new signatures. Records sealed before stay sealed "
            "to the earlier key: keep its secret key file too."
        )
        % {"key_id": key_id},
    )
    return redirect("orgs:keys", slug=slug)


@organizer_view
@require_POST
def generate(request: HttpRequest, slug: str) -> HttpResponse:
    """The server-side fallback: a new pair, its secret shown in this answer only.

    The key pair lives in this function's variables and the response body, nowhere
    else: not in the session, a message, a log line or a cache (`no-store`).
    """
    organization = _organization(request, slug)
    public_key, secret_key = crypto.generate_keypair()
    key_id = crypto.key_id(public_key)
    text = key_file_text(organization.slug, key_id, secret_key)
    response = render(
        request,
        "orgs/key_generated.html",
        {
            "organization": organization,
            "key_id": key_id,
            "public_key": public_key,
            "key_file": text,
            # A data: link downloads the file without JavaScript and without a second
            # request, which would need the server to have kept the secret.
            "key_file_url": "data:application/octet-stream;base64,"
            + base64.b64encode(text.encode()).decode(),
            "key_file_name": key_file_name(organization.slug, key_id),
        },
    )
    response["Cache-Control"] = "no-store"
    return response
