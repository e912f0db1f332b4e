"""Milestones, decision-makers' responses and the outcome of a petition.

The organiser pages need CAN_EDIT (owners, organizers); the outcome page also lets
moderators in (CAN_EDIT | CAN_MODERATE), as marking won or closed was theirs before the
closing statement came with it. Another organisation's member gets a 404.

The public response page needs no login: the private token in its address is the
authority (petitions.responses). It is never cached and sends no referrer, so the token
does not leave the page.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from hamseda.languages import current_language
from hamseda.orgs.permissions import CAN_EDIT, CAN_MODERATE
from hamseda.petitions import outcomes, responses, thresholds
from hamseda.petitions.markdown import render_story
from hamseda.petitions.models import (
    Petition,
    PetitionState,
    Response,
    ResponseRequest,
    Threshold,
    ThresholdAction,
)
from hamseda.petitions.outcome_forms import (
    OfflineResponseForm,
    OutcomeForm,
    RespondForm,
    TargetForm,
    ThresholdForm,
)
from hamseda.petitions.views.organize import _petition_for, _render, organizer_view
from hamseda.petitions.views.public import _public_petition

# --- the decision-maker's response page (public) ----------------------------------------

# Forged or unknown: not found. Genuine but used or expired: gone.
RESPOND_STATUS = {
    responses.LinkOutcome.VALID: 200,
    responses.LinkOutcome.USED: 410,
    responses.LinkOutcome.EXPIRED: 410,
    responses.LinkOutcome.INVALID: 404,
}


@never_cache
@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET shows the petition and the form, changing nothing (mail scanners open
    links); POST publishes the response, once per link."""
    petition = _public_petition(slug)
    now = timezone.now()
    outcome, link = responses.check_response_link(petition, token, now)
    status = RESPOND_STATUS[outcome]
    form = None
    if outcome == responses.LinkOutcome.VALID and link is not None:
        if request.method == "POST":
            form = RespondForm(request.POST)
            status = 400
            if form.is_valid():
                try:
                    response = responses.respond(
                        petition,
                        token,
                        body=form.cleaned_data["body"],
                        language=form.cleaned_data["language"],
                        now=now,
                    )
                except responses.LinkRefused:
                    # The other of two submits racing got the link first.
                    outcome, link = responses.check_response_link(petition, token, now)
                    status = RESPOND_STATUS[outcome]
                    form = None
                except responses.ResponseError as error:
                    form.add_error(None, str(error))
                else:
                    return _respond_page(request, petition, "thanks", link=link, answered=response)
        else:
            language = link.decision_maker.language
            form = RespondForm(initial={"language": language or current_language()})
    answered = None
    if outcome == responses.LinkOutcome.USED and link is not None:
        answered = responses.latest_link_response(link)
    return _respond_page(
        request, petition, outcome.value, link=link, form=form, answered=answered, status=status
    )


def _respond_page(
    request, petition: Petition, outcome: str, *, link, form=None, answered=None, status=200
) -> HttpResponse:
    response = render(
        request,
        "petitions/outcomes/respond.html",
        {
            "petition": petition,
            "text": petition.text(),
            "outcome": outcome,
            "decision_maker": link.decision_maker if link else None,
            "expires_at": link.expires_at if link else None,
            "form": form,
            "answered": answered,
            "countries": petition.country_counts.count(),
        },
        status=status,
    )
    # The address holds the token: not even the petition page linked from here may
    # learn it from the Referer.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


# --- milestones -------------------------------------------------------------------------


@organizer_view
def milestones(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    status = 200
    if request.method == "POST":
        form = ThresholdForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                thresholds.add_threshold(petition, **form.cleaned_data)
            except thresholds.ThresholdError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Milestone added."))
                return redirect("outcomes:milestones", slug=slug)
    else:
        form = ThresholdForm(initial={"action": ThresholdAction.RECORD})
    items = list(petition.thresholds.all())
    asks = any(item.action == ThresholdAction.ASK_RESPONSE for item in items)
    return _render(
        request,
        "petitions/outcomes/milestones.html",
        {
            "petition": petition,
            "text": petition.text(),
            "thresholds": items,
            "form": form,
            "without_email": thresholds.targets_without_email(petition) if asks else [],
        },
        status=status,
    )


@organizer_view
@require_POST
def remove_milestone(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    threshold = get_object_or_404(Threshold, pk=pk, petition=petition)
    try:
        thresholds.remove_threshold(threshold)
    except thresholds.ThresholdError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Milestone removed."))
    return redirect("outcomes:milestones", slug=slug)


# --- responses --------------------------------------------------------------------------


def tell_signers_url(petition: Petition, response: Response) -> str:
    """The mail-out page preset with this response (mail.organize_urls), if installed."""
    for args in ([petition.slug], []):
        try:
            return f"{reverse('mailouts:new', args=args)}?response={response.pk}"
        except NoReverseMatch:
            continue
    return ""


def _target_form(target, data=None) -> TargetForm:
    return TargetForm(
        data,
        prefix=f"target-{target.pk}",
        initial={"email": target.email, "language": target.language},
    )


def _responses_page(request, petition: Petition, *, status=200, **forms) -> HttpResponse:
    targets = list(petition.targets.all())
    requests = {r.decision_maker_id: r for r in ResponseRequest.objects.filter(petition=petition)}
    target_rows = [
        (
            target,
            forms.get(f"target_{target.pk}") or _target_form(target),
            requests.get(target.pk),
        )
        for target in targets
    ]
    items = [
        (response, render_story(response.body), tell_signers_url(petition, response))
        for response in petition.responses.select_related("decision_maker", "recorded_by")
    ]
    return _render(
        request,
        "petitions/outcomes/responses.html",
        {
            "petition": petition,
            "text": petition.text(),
            "targets": target_rows,
            "responses": items,
            "offline_form": forms.get("offline_form")
            or OfflineResponseForm(
                petition=petition, initial={"responded_on": timezone.localdate()}
            ),
            "can_ask": petition.is_public and any(target.email for target in targets),
            "now": timezone.now(),
        },
        status=status,
    )


@organizer_view
def responses_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The petition's decision-makers, where their requests go, the requests sent, the
    responses; POST saves one decision-maker's contact (field `target`)."""
    petition = _petition_for(request, slug, CAN_EDIT)
    if request.method != "POST":
        return _responses_page(request, petition)
    target_id = request.POST.get("target", "")
    target = (
        petition.targets.filter(pk=int(target_id)).first()
        if target_id.isascii() and target_id.isdigit() and len(target_id) < 12
        else None
    )
    if target is None:
        messages.error(request, _("Choose one of the petition's decision-makers."))
        return _responses_page(request, petition, status=400)
    form = _target_form(target, request.POST)
    if not form.is_valid():
        return _responses_page(request, petition, status=400, **{f"target_{target.pk}": form})
    responses.update_contact(
        target, email=form.cleaned_data["email"], language=form.cleaned_data["language"]
    )
    messages.success(request, _("Saved."))
    return redirect("outcomes:responses", slug=slug)


@organizer_view
@require_POST
def request_responses(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    if not petition.is_public:
        messages.error(request, _("Decision-makers can be asked once the petition is public."))
        return redirect("outcomes:responses", slug=slug)
    asked = responses.request_responses(petition)
    if asked:
        messages.success(
            request,
            ngettext(
                "A response link was sent to %(count)d decision-maker.",
                "A response link was sent to %(count)d decision-makers.",
                asked,
            )
            % {"count": asked},
        )
    else:
        messages.error(request, _("No decision-maker of this petition has an e-mail address yet."))
    return redirect("outcomes:responses", slug=slug)


@organizer_view
@require_POST
def record_response(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    form = OfflineResponseForm(request.POST, petition=petition)
    if form.is_valid():
        try:
            responses.record_response(petition, **form.cleaned_data, recorded_by=request.user)
        except responses.ResponseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The response is published on the petition page."))
            return redirect("outcomes:responses", slug=slug)
    return _responses_page(request, petition, status=400, offline_form=form)


@organizer_view
@require_POST
def toggle_response(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    response = get_object_or_404(Response, pk=pk, petition=petition)
    if response.hidden:
        responses.show_response(response)
        messages.success(request, _("The response is shown on the petition page again."))
    else:
        responses.hide_response(response)
        messages.success(request, _("The response is hidden from the petition page."))
    return redirect("outcomes:responses", slug=slug)


# --- outcome ----------------------------------------------------------------------------


@organizer_view
def outcome(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT | CAN_MODERATE)
    translations = {t.language: t for t in petition.translations.all()}
    languages = [code for code in petition.languages if code in translations]
    status = 200
    if request.method == "POST":
        form = OutcomeForm(request.POST, languages=languages)
        status = 400
        if form.is_valid():
            try:
                outcomes.set_outcome(
                    petition, outcome=form.cleaned_data["outcome"], statements=form.statements()
                )
            except outcomes.OutcomeError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Saved: the petition page shows the outcome."))
                return redirect("outcomes:outcome", slug=slug)
    else:
        initial = {f"statement_{code}": translations[code].closing_statement for code in languages}
        if petition.state in outcomes.OUTCOMES:
            initial["outcome"] = petition.state
        form = OutcomeForm(initial=initial, languages=languages)
    return _render(
        request,
        "petitions/outcomes/outcome.html",
        {
            "petition": petition,
            "text": petition.text(),
            "form": form,
            "settable": petition.state
            in {PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON},
            "decided_at": outcomes.outcome_date(petition),
        },
        status=status,
    )
