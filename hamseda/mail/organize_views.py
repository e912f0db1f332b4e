"""The organisers' mail-out pages: choose an update or a response and the signers to
mail it to, give the secret key, watch it go out (mail.mailouts does the work).

Mail-outs read supporters' sealed addresses, so every page needs the mail role and
two-factor login (orgs.permissions.CAN_MAIL); a mail-out or petition of another
organisation is a 404.

The organisation's secret key reaches the server only in the POST that starts a
mail-out (PRIVACY.md rule 1). It is handed to the sending thread and lives in its
memory only: it is not a form field (a bound form would echo it into the page), not
in the session, a message or a log line, and Django's error reports hide it
(`sensitive_post_parameters`, `sensitive_variables`). The answers around it are
`Cache-Control: no-store`.
"""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hamseda.languages import current_language
from hamseda.mail import mailouts
from hamseda.mail.forms import CopyForm, MailoutForm, RateForm, content_label
from hamseda.mail.models import Mailout, MailoutState
from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import CAN_MAIL, CAN_MANAGE, check_access, has_role
from hamseda.petitions.models import Petition
from hamseda.petitions.views.organize import _petition_for, _render, organizer_view

# A key file is a few lines (vault.decrypt.KEY_FILE_LIMIT); anything much bigger is
# some other file chosen by mistake, and is not read into memory.
KEY_FILE_LIMIT = 16 * 1024
MAX_KEY_FILES = 10
KEY_STATES = {MailoutState.QUEUED, MailoutState.PAUSED}
CANCEL_STATES = {MailoutState.DRAFT, MailoutState.QUEUED, MailoutState.PAUSED}


def _mailout_for(request: HttpRequest, pk: int) -> Mailout:
    mailout = get_object_or_404(
        Mailout.objects.select_related(
            "organization", "petition", "update__petition", "response__decision_maker"
        ),
        pk=pk,
    )
    check_access(request.user, mailout.organization, CAN_MAIL, two_factor=True)
    return mailout


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _label(mailout: Mailout) -> str:
    return content_label(update=mailout.update, response=mailout.response)


def _segment_text(mailout: Mailout) -> str:
    return mailouts.Segment.from_json(mailout.segment or {}).describe()


# --- the petition's mail-outs, and the send rate ----------------------------------------


@organizer_view
@require_safe
def mailout_list(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_MAIL, two_factor=True)
    rows = [
        {
            "mailout": mailout,
            "label": _label(mailout),
            "segment": _segment_text(mailout),
            "progress": mailouts.progress(mailout),
        }
        for mailout in Mailout.objects.filter(petition=petition).select_related(
            "update__petition", "response__decision_maker"
        )
    ]
    organization = petition.organization
    can_manage = has_role(request.user, organization, CAN_MANAGE)
    return _render(
        request,
        "mail/organize/list.html",
        {
            "petition": petition,
            "petition_text": petition.text(),
            "rows": rows,
            "organization": organization,
            "rate_form": RateForm(initial={"rate": organization.mail_rate_per_minute})
            if can_manage
            else None,
        },
    )


def set_mail_rate(organization: Organization, rate: int) -> None:
    """The organisation's send rate. A mail-out's sender reads it when it starts or
    resumes (mail.sending), so one already sending keeps its rate until paused."""
    Organization.objects.filter(pk=organization.pk).update(mail_rate_per_minute=rate)
    organization.mail_rate_per_minute = rate


@organizer_view
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, slug: str) -> HttpResponse:
    """The organisation's send rate (owners only). The form posts the petition whose
    mail-outs page it was on, to go back there."""
    organization = get_object_or_404(Organization, slug=slug)
    check_access(request.user, organization, CAN_MANAGE, two_factor=True)
    back = Petition.objects.filter(
        organization=organization, slug=request.POST.get("petition") or request.GET.get("petition")
    ).first()
    if request.method == "GET":
        form = RateForm(initial={"rate": organization.mail_rate_per_minute})
    elif (form := RateForm(request.POST)).is_valid():
        set_mail_rate(organization, form.cleaned_data["rate"])
        messages.success(request, _("The send rate is saved."))
        if back is not None:
            return redirect("mailouts:list", slug=back.slug)
        return redirect("mailouts:rate", slug=organization.slug)
    return _render(
        request,
        "mail/organize/rate.html",
        {"organization": organization, "form": form, "petition": back},
        status=400 if request.method == "POST" else 200,
    )


# --- a new mail-out ---------------------------------------------------------------------


def _requested_content(request: HttpRequest, form: MailoutForm) -> tuple[str, str]:
    """The content asked for with ?update=ID or ?response=ID: (choice key, error)."""
    for kind in ("update", "response"):
        value = request.GET.get(kind)
        if value is None:
            continue
        key = f"{kind}-{value.strip()}"
        if key in form.updates or key in form.responses:
            return key, ""
        if kind == "update":
            return "", _("That update is not a published update of this petition.")
        return "", _("That response is not a visible response of this petition.")
    return "", ""


@organizer_view
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest, slug: str) -> HttpResponse:
    """Choose what to send and to whom; "Count" shows how many it reaches, "Create"
    lists the recipients (ready for the key), "Save as draft" keeps it to test first."""
    petition = _petition_for(request, slug, CAN_MAIL, two_factor=True)
    status, error, count = 200, "", None
    if request.method == "POST":
        form = MailoutForm(request.POST, petition=petition)
        action = request.POST.get("action", "count")
        valid = form.is_valid()
        if action == "count":
            # Counting needs only the selection: no content chosen yet is fine here.
            if form.has_error("content", "required"):
                del form.errors["content"]
            if form.errors:
                status = 400
            else:
                count = mailouts.count_recipients(petition, form.segment())
        elif not valid:
            status = 400
        else:
            update, response = form.chosen()
            try:
                # One transaction: when nobody is in the segment, no empty draft stays.
                with transaction.atomic():
                    mailout = mailouts.create_mailout(
                        petition,
                        update=update,
                        response=response,
                        segment=form.segment(),
                        created_by=request.user,
                    )
                    if action != "draft":
                        listed = mailouts.queue_mailout(mailout)
            except mailouts.MailoutError as exc:
                status, error = 400, str(exc)
                count = mailouts.count_recipients(petition, form.segment())
            else:
                if action == "draft":
                    messages.success(
                        request, _("Saved as a draft. Send yourself a test copy, then list it.")
                    )
                else:
                    messages.success(
                        request,
                        _("%(count)s signers are listed. Give the key to start sending.")
                        % {"count": listed},
                    )
                return redirect("mailouts:detail", pk=mailout.pk)
    else:
        form = MailoutForm(petition=petition)
        key, error = _requested_content(request, form)
        if key:
            form.initial["content"] = key
        if error:
            status = 400
        count = mailouts.count_recipients(petition, mailouts.Segment())
    return _render(
        request,
        "mail/organize/new.html",
        {
            "petition": petition,
            "petition_text": petition.text(),
            "form": form,
            "error": error,
            "count": count,
            "has_content": bool(form.fields["content"].choices),
        },
        status=status,
    )


# --- one mail-out -----------------------------------------------------------------------


def _detail_page(
    request: HttpRequest,
    mailout: Mailout,
    *,
    error: str = "",
    status: int = 200,
    copy_form: CopyForm | None = None,
) -> HttpResponse:
    progress = mailouts.progress(mailout)
    interrupted = progress["interrupted"]
    response = _render(
        request,
        "mail/organize/detail.html",
        {
            "mailout": mailout,
            "petition": mailout.petition,
            "petition_text": mailout.petition.text(),
            "label": _label(mailout),
            "segment": _segment_text(mailout),
            "progress": progress,
            "error": error,
            "needs_key": mailout.state in KEY_STATES or interrupted,
            "can_pause": mailout.state == MailoutState.RUNNING and not interrupted,
            "can_cancel": mailout.state in CANCEL_STATES or interrupted,
            "can_queue": mailout.state == MailoutState.DRAFT,
            "can_test": mailout.state not in {MailoutState.DONE, MailoutState.CANCELLED},
            "copy_form": copy_form or CopyForm(initial={"language": current_language()}),
        },
        status=status,
    )
    # The key form: nothing of this page, nor of its answers, may be kept by a browser
    # or a proxy cache.
    return _no_store(response)


@organizer_view
@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _mailout_for(request, pk))


@sensitive_variables("pasted", "texts", "upload")
def _posted_keys(request: HttpRequest) -> list[str | bytes]:
    """The key file contents in the POST: the pasted text and each chosen file."""
    texts: list[str | bytes] = []
    pasted = request.POST.get("key", "")
    if pasted.strip():
        texts.append(pasted)
    uploads = request.FILES.getlist("key_file")
    if len(uploads) > MAX_KEY_FILES:
        raise mailouts.WrongKey(_("Choose at most ten key files."))
    for upload in uploads:
        if upload.size > KEY_FILE_LIMIT:
            raise mailouts.WrongKey(
                _("%(name)s is not a secret key file: it is far too large.") % {"name": upload.name}
            )
        texts.append(upload.read())
    if not texts:
        raise mailouts.WrongKey(_("Paste the secret key, or choose the key file."))
    return texts


@sensitive_post_parameters("key")
@organizer_view
@require_POST
@sensitive_variables("texts", "keys")
def start(request: HttpRequest, pk: int) -> HttpResponse:
    """Read the posted key(s), check them, and start sending in this server process."""
    mailout = _mailout_for(request, pk)
    try:
        texts = _posted_keys(request)
        keys = mailouts.read_keys(texts)
        del texts
        mailouts.start_in_background(mailout, keys, actor=request.user)
        del keys
    except mailouts.AlreadyRunning as exc:
        return _detail_page(request, _refreshed(mailout), error=str(exc), status=409)
    except mailouts.NotAllowed as exc:
        return _detail_page(request, _refreshed(mailout), error=str(exc), status=409)
    except mailouts.MailoutError as exc:  # WrongKey, NothingToSend
        return _detail_page(request, _refreshed(mailout), error=str(exc), status=400)
    messages.success(request, _("Sending has started."))
    return _no_store(redirect("mailouts:detail", pk=mailout.pk))


def _refreshed(mailout: Mailout) -> Mailout:
    mailout.refresh_from_db()
    return mailout


@organizer_view
@require_POST
def pause(request: HttpRequest, pk: int) -> HttpResponse:
    mailout = _mailout_for(request, pk)
    try:
        mailouts.pause_mailout(mailout, actor=request.user)
    except mailouts.MailoutError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Paused. Sending stops after the current message; give the key again to go on."),
        )
    return redirect("mailouts:detail", pk=pk)


@organizer_view
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    mailout = _mailout_for(request, pk)
    try:
        mailouts.cancel_mailout(mailout, actor=request.user)
    except mailouts.MailoutError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Cancelled. Nobody else gets this mail-out."))
    return redirect("mailouts:detail", pk=pk)


@organizer_view
@require_POST
def queue(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft (kept to send a test copy first): list its recipients."""
    mailout = _mailout_for(request, pk)
    try:
        listed = mailouts.queue_mailout(mailout)
    except mailouts.MailoutError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(count)s signers are listed. Give the key to start sending.") % {"count": listed},
        )
    return redirect("mailouts:detail", pk=pk)


@organizer_view
@require_POST
def test_copy(request: HttpRequest, pk: int) -> HttpResponse:
    """One copy to an address the organiser gives, marked as a test; no key needed."""
    mailout = _mailout_for(request, pk)
    form = CopyForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, mailout, copy_form=form, status=400)
    try:
        mailouts.send_test(mailout, form.cleaned_data["address"], form.cleaned_data["language"])
    except mailouts.MailoutError as exc:
        return _detail_page(request, mailout, error=str(exc), status=409)
    # The message does not repeat the address: messages are kept in the session.
    messages.success(request, _("A test copy is on its way."))
    return redirect("mailouts:detail", pk=pk)


@organizer_view
@require_safe
def progress(request: HttpRequest, pk: int) -> JsonResponse:
    """The numbers the page shows, for static/hamseda/mailout-progress.js."""
    mailout = _mailout_for(request, pk)
    response = JsonResponse(mailouts.progress(mailout))
    response["Cache-Control"] = "no-store"
    return response
