from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hamseda.integrity import checks as integrity
from hamseda.languages import current_language
from hamseda.network import client_fingerprint
from hamseda.petitions import pagecache, services, withdrawal
from hamseda.petitions.countries import country_name
from hamseda.petitions.forms import SignatureForm
from hamseda.petitions.markdown import render_story
from hamseda.petitions.models import Petition
from hamseda.petitions.sharing import share_links


def _public_petition(slug: str) -> Petition:
    petition = get_object_or_404(
        Petition.objects.select_related("organization", "campaign").prefetch_related(
            "translations", "targets"
        ),
        slug=slug,
    )
    if not petition.is_public:
        raise Http404
    return petition


def _petition_to_sign(slug: str) -> Petition:
    """Only what signing needs (one query); an error page loads the rest lazily."""
    petition = get_object_or_404(
        Petition.objects.select_related("organization").only(
            "id",
            "slug",
            "state",
            "closing_at",
            "campaign_id",
            "default_language",
            "signature_count",
            "invalidated_count",
            "goal",
            "limits",
            "organization__public_key",
        ),
        slug=slug,
    )
    if not petition.is_public:
        raise Http404
    return petition


def _thanks_page(request: HttpRequest, petition: Petition) -> HttpResponse:
    """The "check your inbox" page. It is the same for every anonymous signer of a
    petition in one language (nothing personal, no form), so its HTML is rendered once
    a minute rather than for every signature of a viral peak."""
    if request.user.is_authenticated:
        return _page(request, petition, None, template="petitions/signed.html")
    html = pagecache.cached_html(
        pagecache.thanks_page_key(petition.slug, current_language()),
        pagecache.THANKS_PAGE_SECONDS,
        lambda: _page(request, petition, None, template="petitions/signed.html"),
    )
    return HttpResponse(html)


def _page(request, petition, form, *, status=200, template="petitions/detail.html", **extra):
    text = petition.text()
    context = {
        "petition": petition,
        "text": text,
        "form": form,
        "is_open": petition.is_open(timezone.now()),
        "share": share_links(petition, text),
        **extra,
    }
    if template == "petitions/detail.html":
        # Only the petition page shows the story and the recent signers; the thank-you
        # page after each signature skips the Markdown rendering and the query.
        context["story"] = render_story(text.story) if text else ""
        context["signers"] = [
            {
                "name": s["public_name"],
                "country": country_name(s["country"]),
                "day": s["validated_at"],
            }
            for s in services.recent_public_signers(petition)
        ]
    return render(request, template, context, status=status)


def _detail_page(request: HttpRequest, slug: str, **extra) -> HttpResponse:
    petition = _public_petition(slug)
    # A closed or won petition shows why it takes no signatures instead of the form.
    form = SignatureForm() if petition.is_open(timezone.now()) else None
    return _page(request, petition, form, **extra)


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The petition page; for anonymous readers from a cache of a few seconds
    (petitions.pagecache), with each reader's own CSRF token put in."""
    if request.user.is_authenticated:
        return _detail_page(request, slug)
    html = pagecache.cached_html(
        pagecache.petition_page_key(slug, current_language()),
        pagecache.PETITION_PAGE_SECONDS,
        # Rendered with a placeholder for the token; an unknown slug raises 404 here.
        lambda: _detail_page(request, slug, csrf_token=pagecache.CSRF_PLACEHOLDER),
    )
    return HttpResponse(pagecache.with_csrf_token(request, html))


@require_POST
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_to_sign(slug)
    if not petition.is_open(timezone.now()):
        return _page(request, petition, None, status=409)
    form = SignatureForm(request.POST)
    if not form.is_valid():
        return _page(request, petition, form, status=400)
    now = timezone.now()
    fingerprint = client_fingerprint(request, now=now)
    signer = services.Signer(
        **form.signer_data(), language=current_language(), network_fingerprint=fingerprint
    )
    try:
        with integrity.attempt_transaction():
            verdict = integrity.check_signature_attempt(
                petition, {**request.POST.dict(), **form.cleaned_data}, fingerprint, now=now
            )
            outcome = (
                services.sign_petition(petition, signer, now=now, mail_allowed=verdict.mail_allowed)
                if verdict.allowed
                else None
            )
    except services.PetitionNotOpen:
        return _page(request, petition, None, status=409)
    if not verdict.allowed:
        return _refused(request, petition, form, verdict)
    if outcome == services.SignatureOutcome.MAIL_LIMITED:
        message = integrity.mail_limit_message()
        return _page(request, petition, form, status=429, integrity_message=message)
    # Same page for a new and a repeated signature: the browser must not learn whether
    # an address has signed; the mail tells its owner (see services.sign_petition).
    return _thanks_page(request, petition)


def _refused(request, petition, form, verdict: integrity.Verdict) -> HttpResponse:
    """The form again, with what it typed, why it was refused and, over a limit, a
    proof-of-work challenge that pow.js solves and resubmits (integrity.checks)."""
    response = _page(
        request,
        petition,
        form,
        status=verdict.status,
        integrity_message=verdict.message,
        pow_challenge=verdict.challenge,
    )
    if verdict.retry_after:
        response["Retry-After"] = str(verdict.retry_after)
    return response


@never_cache
@require_GET
def confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    petition = _public_petition(slug)
    outcome = services.confirm_signature(petition, token)
    petition.refresh_from_db(fields=["signature_count"])
    status = (
        200
        if outcome in {services.ConfirmOutcome.CONFIRMED, services.ConfirmOutcome.ALREADY}
        else 400
    )
    return _page(
        request,
        petition,
        None,
        status=status,
        template="petitions/confirmed.html",
        outcome=outcome.value,
    )


# A link that is not ours (forged, cut short, for another petition) is not found; a
# genuine one whose signature no longer exists is gone.
WITHDRAW_STATUS = {withdrawal.WithdrawOutcome.INVALID: 404, withdrawal.WithdrawOutcome.GONE: 410}


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The withdraw link in every mail to a signer. GET only says what will happen, as
    mail scanners and link previews follow links; the button POSTs and withdraws."""
    petition = _public_petition(slug)
    if request.method == "POST":
        outcome = withdrawal.withdraw_signature(petition, token)
        petition.refresh_from_db(fields=["signature_count", "invalidated_count"])
    else:
        outcome = withdrawal.check_withdrawal(petition, token)
    return _page(
        request,
        petition,
        None,
        status=WITHDRAW_STATUS.get(outcome, 200),
        template="petitions/withdraw.html",
        outcome=outcome.value,
    )
