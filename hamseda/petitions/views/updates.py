"""Updates on a petition: the organisers' pages to write and publish them, and the
public pages that show the published ones (petitions.updates).

Organiser pages need the edit role (orgs.permissions.CAN_EDIT); a member of another
organisation gets a 404. Public pages show only published updates of a public
petition: a draft, an update of another petition, or a petition not (yet) public is a
404, so nothing unpublished leaks.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hamseda.languages import current_language
from hamseda.orgs.permissions import CAN_EDIT, CAN_MAIL, has_role
from hamseda.petitions import updates
from hamseda.petitions.markdown import render_story
from hamseda.petitions.models import Petition, Update
from hamseda.petitions.update_forms import UpdateForm, UpdateTextForm
from hamseda.petitions.views.organize import _petition_for, _render, organizer_view
from hamseda.petitions.views.public import _public_petition

LANGUAGE_NAMES = dict(settings.LANGUAGES)
RTL_LANGUAGES = set(settings.LANGUAGES_BIDI)


def _update_of(petition: Petition, pk: int) -> Update:
    """An update of this petition; another petition's update is a 404 like a missing one."""
    return get_object_or_404(
        Update.objects.select_related("petition").prefetch_related("translations"),
        pk=pk,
        petition=petition,
    )


def shown(update: Update) -> dict:
    """An update for a template: its text in the reader's language (or the best other
    one), that text's language and direction, and the rendered Markdown."""
    text = update.text()
    language = text.language if text else current_language()
    return {
        "update": update,
        "text": text,
        "body": render_story(text.body) if text else "",
        "language": language,
        "direction": "rtl" if language in RTL_LANGUAGES else "ltr",
        # False when the reader's language is missing and another one is shown.
        "in_reader_language": language == current_language(),
    }


# --- organiser pages ------------------------------------------------------------------


@organizer_view
@require_safe
def organize_list(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    rows = [
        {
            **shown(update),
            "language_names": [
                LANGUAGE_NAMES.get(code, code) for code in _ordered(update.languages)
            ],
        }
        for update in updates.organizer_updates(petition)
    ]
    return _render(
        request,
        "petitions/updates/organize_list.html",
        {
            "petition": petition,
            "petition_text": petition.text(),
            "rows": rows,
            "can_mail": has_role(request.user, petition.organization, CAN_MAIL),
        },
    )


def _ordered(codes) -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code in set(codes)]


def _text_forms(request, petition: Petition, update: Update | None) -> list[UpdateTextForm]:
    languages = updates.update_languages(petition)
    if request.method == "POST":
        return [UpdateTextForm(request.POST, language=code) for code in languages]
    existing = {t.language: t for t in update.translations.all()} if update else {}
    return [
        UpdateTextForm(
            language=code,
            initial={"title": existing[code].title, "body": existing[code].body}
            if code in existing
            else None,
        )
        for code in languages
    ]


def _edit(request: HttpRequest, petition: Petition, update: Update | None) -> HttpResponse:
    """The page to write a new update or change one: a picture, and a title and text in
    each of the petition's languages (at least one)."""
    initial = {"image": update.image} if update is not None and update.image else None
    if request.method == "POST":
        form = UpdateForm(request.POST, request.FILES, initial=initial)
    else:
        form = UpdateForm(initial=initial)
    text_forms = _text_forms(request, petition, update)
    preview = []
    if request.method == "POST":
        valid = form.is_valid() & all([f.is_valid() for f in text_forms])
        texts = {
            f.language: {"title": f.cleaned_data["title"], "body": f.cleaned_data["body"]}
            for f in text_forms
            if f.is_valid() and f.is_filled()
        }
        if valid and not texts:
            form.add_error(None, _("Write the update's title and text in at least one language."))
            valid = False
        if valid and request.POST.get("action") == "preview":
            # Shown above the form, which keeps what was typed; nothing is saved (a new
            # picture has to be chosen again when saving).
            preview = [
                {
                    "language": code,
                    "language_name": LANGUAGE_NAMES[code],
                    "direction": "rtl" if code in RTL_LANGUAGES else "ltr",
                    "title": fields["title"],
                    "body": render_story(fields["body"]),
                }
                for code, fields in texts.items()
            ]
        elif valid:
            try:
                updates.save_update(
                    petition,
                    texts=texts,
                    image=form.cleaned_data["image"],
                    update=update,
                    created_by=request.user,
                )
            except updates.UpdateRefused as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Saved."))
                return redirect("updates:organize_list", slug=petition.slug)
    return _render(
        request,
        "petitions/updates/edit.html",
        {
            "petition": petition,
            "petition_text": petition.text(),
            "update": update,
            "form": form,
            "text_forms": text_forms,
            "preview": preview,
            "invalid": form.errors or any(f.is_bound and f.errors for f in text_forms),
        },
        status=400 if request.method == "POST" and not preview else 200,
    )


@organizer_view
def organize_new(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    return _edit(request, petition, None)


@organizer_view
def organize_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    return _edit(request, petition, _update_of(petition, pk))


@organizer_view
@require_POST
def publish(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    update = _update_of(petition, pk)
    if not update.translations.all():
        messages.error(request, _("Write the update's title and text before publishing it."))
    else:
        updates.publish_update(update)
        if petition.is_public:
            messages.success(request, _("Published: the update is on the petition's page."))
        else:
            messages.success(
                request, _("Published: the update will show once the petition is open.")
            )
    return redirect("updates:organize_list", slug=slug)


@organizer_view
@require_POST
def unpublish(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    try:
        updates.unpublish_update(_update_of(petition, pk))
        messages.success(request, _("Unpublished: the update is off the public pages."))
    except updates.UpdateRefused as error:
        messages.error(request, str(error))
    return redirect("updates:organize_list", slug=slug)


@organizer_view
@require_POST
def delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    try:
        updates.delete_update(_update_of(petition, pk))
        messages.success(request, _("Deleted."))
    except updates.UpdateRefused as error:
        messages.error(request, str(error))
    return redirect("updates:organize_list", slug=slug)


# --- public pages ---------------------------------------------------------------------


@require_safe
def public_list(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _public_petition(slug)
    return render(
        request,
        "petitions/updates/list.html",
        {
            "petition": petition,
            "petition_text": petition.text(),
            "items": [shown(update) for update in updates.public_updates(petition)],
        },
    )


@require_safe
def public_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    petition = _public_petition(slug)
    update = updates.public_updates(petition).filter(pk=pk).first()
    if update is None:
        raise Http404
    return render(
        request,
        "petitions/updates/detail.html",
        {"petition": petition, "petition_text": petition.text(), "item": shown(update)},
    )
