"""Owners make and revoke their organisation's partner API keys under
/organize/org/<slug>/api-keys (docs/api-write.md). Owners only, with two-factor login
(orgs.permissions): a key lets a partner's server sign and RSVP in the organisation's
name.

A new key is shown once, in the answer to its creation (`Cache-Control: no-store`):
the server keeps only its SHA-256 and cannot show it again. Every creation and
revocation is audited (api.keys).
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hamseda.api import keys
from hamseda.api.forms import ApiKeyForm
from hamseda.api.models import ApiKey, Scope
from hamseda.links import absolute_url
from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import CAN_MANAGE, check_access
from hamseda.petitions.views.organize import organizer_view


def _organization(request: HttpRequest, slug: str) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    check_access(request.user, organization, CAN_MANAGE, two_factor=True)
    return organization


def _page(
    request: HttpRequest,
    organization: Organization,
    form: ApiKeyForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    labels = dict(Scope.choices)
    rows = list(keys.keys_of(organization).select_related("created_by"))
    for key in rows:
        key.state = keys.key_state(key, now)  # type: ignore[attr-defined]
        key.scope_labels = [labels.get(scope, scope) for scope in key.scope_list]  # type: ignore[attr-defined]
    return render(
        request,
        "api/keys.html",
        {
            "organization": organization,
            "keys": rows,
            "form": form or ApiKeyForm(),
            "api_base": absolute_url("/api/v1/"),
        },
        status=status,
    )


@organizer_view
@require_safe
def key_list(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, _organization(request, slug))


@organizer_view
@require_POST
def create(request: HttpRequest, slug: str) -> HttpResponse:
    """Make a key; the answer shows it, once, and is never cached."""
    organization = _organization(request, slug)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, organization, form, status=400)
    try:
        key, plain = keys.create_key(
            organization,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.expires_at(),
            rate_per_minute=form.cleaned_data["rate_per_minute"],
            created_by=request.user,
        )
    except keys.KeyRequestRefused as refusal:
        form.add_error(None, str(refusal))
        return _page(request, organization, form, status=400)
    labels = dict(Scope.choices)
    response = render(
        request,
        "api/keys_created.html",
        {
            "organization": organization,
            "key": key,
            "plain_key": plain,
            "scope_labels": [labels[scope] for scope in key.scope_list],
            "api_base": absolute_url("/api/v1/"),
        },
    )
    # The only copy of the key: no browser or proxy may keep this page.
    response["Cache-Control"] = "no-store"
    return response


@organizer_view
@require_POST
def revoke(request: HttpRequest, slug: str, key_id: int) -> HttpResponse:
    organization = _organization(request, slug)
    key = get_object_or_404(ApiKey, pk=key_id, organization=organization)
    if keys.revoke_key(key, by=request.user):
        messages.success(
            request,
            _("The key “%(name)s” is revoked: it works no more.") % {"name": key.name},
        )
    else:
        messages.info(request, _("This key was already revoked."))
    return redirect("apikeys:list", slug=slug)
