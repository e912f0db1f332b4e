from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hamseda.integrity import checks as integrity
from hamseda.languages import current_language
from hamseda.petitions import pagecache, partner_consent, services, sources, withdrawal
from hamseda.petitions.countries import country_name
from hamseda.petitions.forms import SignatureForm
from hamseda.petitions.markdown import render_story
from hamseda.petitions.models import Petition
from hamseda.petitions.sharing import link_preview, share_links
from hamseda.petitions.sign_attempt import attempt_signature


def _public_petition(slug: str) -> Petition:
    petition = get_object_or_404(
        Petition.objects.select_related("organization", "campaign").prefetch_related(
            "translations", "targets", "co_hosts"
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


def _thanks_page(request: HttpRequest, petition: Petition, generation: int) -> HttpResponse:
    """The "check your inbox" page. It is the same for every anonymous signer of a
    petition in one language but for the signer's own sharer code in its share links
    (put in per request), so its HTML is rendered once a minute rather than for every
    signature of a viral peak.

    The code is made from the generation the submitted source gives (`generation`), not
    from the database: a repeated signature gets the same page as a new one, so the page
    does not tell whether an address had signed.
    """
    code = sources.make_code(petition.pk, generation)
    if request.user.is_authenticated:
        return _page(request, petition, None, template="petitions/signed.html", sharer_code=code)
    html = pagecache.cached_html(
        pagecache.thanks_page_key(petition.slug, current_language()),
        pagecache.THANKS_PAGE_SECONDS,
        lambda: _page(
            request,
            petition,
            None,
            template="petitions/signed.html",
            sharer_code=pagecache.SHARER_PLACEHOLDER,
        ),
    )
    return HttpResponse(pagecache.with_sharer_code(html, code))


def _page(
    request,
    petition,
    form,
    *,
    status=200,
    template="petitions/detail.html",
    source="",
    sharer_code="",
    **extra,
):
    """A public petition page. `source` is the sign form's hidden source field (a
    sources.form_value() or the cache's placeholder); `sharer_code` the signer's own
    code for the share links of a thank-you or confirmation page."""
    text = petition.text()
    context = {
        "petition": petition,
        "text": text,
        "form": form,
        "is_open": petition.is_open(timezone.now()),
        "share": share_links(petition, text, sharer_code),
        "source": source,
        **extra,
    }
    if template == "petitions/detail.html":
        # Only the petition page shows the story, the recent signers and the link
        # preview tags; the thank-you page after each signature skips the Markdown
        # rendering and the query.
        context["story"] = render_story(text.story) if text else ""
        context["preview_tags"] = link_preview(petition, text, context["story"])
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
    form = None
    if petition.is_open(timezone.now()):
        # One unticked box per co-host with a key (petitions.partner_consent).
        offered = partner_consent.offered_partners(petition)
        form = SignatureForm(partners=partner_consent.consent_choices(offered) or None)
    return _page(request, petition, form, **extra)


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The petition page; for anonymous readers from a cache of a few seconds
    (petitions.pagecache), with each reader's own CSRF token and source put in. The
    source of the link followed (`?s=`) goes into the sign form, checked strictly: it is
    reflected into the page."""
    source = sources.form_value(request.GET.get(sources.SOURCE_PARAMETER, ""))
    if request.user.is_authenticated:
        return _detail_page(request, slug, source=source)
    html = pagecache.cached_html(
        pagecache.petition_page_key(slug, current_language()),
        pagecache.PETITION_PAGE_SECONDS,
        # Rendered with placeholders for the token and the source; an unknown slug
        # raises 404 here.
        lambda: _detail_page(
            request,
            slug,
            csrf_token=pagecache.CSRF_PLACEHOLDER,
            source=pagecache.SOURCE_PLACEHOLDER,
        ),
    )
    return HttpResponse(pagecache.with_source(pagecache.with_csrf_token(request, html), source))


@require_POST
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_to_sign(slug)
    # The form shown again (an error, a limit) keeps the source it was sent with.
    source = sources.form_value(request.POST.get("source", ""))
    attempt = attempt_signature(request, petition, request.POST, source=source, now=timezone.now())
    if attempt.signed:
        # Same page for a new and a repeated signature: the browser must not learn
        # whether an address has signed; the mail tells its owner.
        return _thanks_page(request, petition, attempt.generation)
    if attempt.verdict is not None:
        return _refused(request, petition, attempt.form, attempt.verdict, source)
    return _page(
        request,
        petition,
        attempt.form,
        status=attempt.status,
        source=source,
        integrity_message=attempt.message or None,
    )


def _refused(request, petition, form, verdict: integrity.Verdict, source: str) -> HttpResponse:
    """The form again, with what it typed, why it was refused and, over a limit, a
    proof-of-work challenge that pow.js solves and resubmits (integrity.checks)."""
    response = _page(
        request,
        petition,
        form,
        status=verdict.status,
        source=source,
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
    confirmed = outcome in {services.ConfirmOutcome.CONFIRMED, services.ConfirmOutcome.ALREADY}
    # A confirmed signer's share links carry a sharer code of their own generation.
    code = (
        sources.make_code(petition.pk, sources.signer_generation(petition, token))
        if confirmed
        else ""
    )
    return _page(
        request,
        petition,
        None,
        status=200 if confirmed else 400,
        template="petitions/confirmed.html",
        sharer_code=code,
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
