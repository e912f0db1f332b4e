"""Updates on a petition: news the organisers write, publish on the petition's pages and
may mail to the signers who asked to be kept updated (mail.mailouts).

An update is a draft until it is published. A draft can be edited and deleted. A
published update stays: people may have been mailed a link to it. It can still be
corrected (edited), and it can be taken off the public pages again (unpublished) as
long as no mail-out of it is waiting or sending, for the day an organiser published
something that endangers someone. A mail-out always sends the text as it is when each
message goes out.
"""

from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.mail.models import Mailout, MailoutState
from hamseda.petitions import pagecache
from hamseda.petitions.models import Petition, Update, UpdateTranslation

TITLE_MAX = 200
BODY_MAX = 20_000
# Mail-outs in these states will still send the update (or wait for the key to do so).
ACTIVE_MAILOUT_STATES = (
    MailoutState.DRAFT,
    MailoutState.QUEUED,
    MailoutState.RUNNING,
    MailoutState.PAUSED,
)


class UpdateRefused(Exception):
    """A change to an update that is not allowed; str() is a message for the organiser."""


def update_languages(petition: Petition) -> list[str]:
    """The languages an update of `petition` may be written in: the petition's own, in
    the site's order (the main language is always among them)."""
    codes = set(petition.languages) | {petition.default_language}
    return [code for code, _name in settings.LANGUAGES if code in codes]


def _check_texts(petition: Petition, texts: Mapping[str, Mapping[str, str]]) -> None:
    if not texts:
        raise UpdateRefused(_("Write the update's title and text in at least one language."))
    allowed = update_languages(petition)
    for language, fields in texts.items():
        if language not in allowed:
            raise UpdateRefused(_("The petition is not written in that language."))
        title, body = fields.get("title", "").strip(), fields.get("body", "").strip()
        if not title or not body:
            raise UpdateRefused(_("Each language needs both a title and a text."))
        if len(title) > TITLE_MAX or len(body) > BODY_MAX:
            raise UpdateRefused(_("The title or the text is too long."))


def save_update(
    petition: Petition,
    *,
    texts: Mapping[str, Mapping[str, str]],
    image: UploadedFile | bool | None = None,
    update: Update | None = None,
    created_by=None,
    now: datetime | None = None,
) -> Update:
    """Create an update of `petition` (`update` None) or edit `update`, in one transaction.

    `texts` maps a language to {"title", "body"} (Markdown); a language left out is
    removed. `image`: None keeps the current image, an uploaded file (already checked
    and re-encoded by the form, organize_forms.reencode_image) replaces it, False
    removes it. A replaced or removed file is deleted once the change is committed.
    """
    now = now or timezone.now()
    if update is not None and update.petition_id != petition.pk:
        raise UpdateRefused(_("This update belongs to another petition."))
    _check_texts(petition, texts)
    with transaction.atomic():
        if update is None:
            update = Update(petition=petition, created_by=created_by, created_at=now)
        old_image = update.image.name if update.image else ""
        if image is False:
            update.image = ""  # type: ignore[assignment]
        elif image is not None:
            update.image = image
        update.save()
        UpdateTranslation.objects.filter(update=update).exclude(language__in=list(texts)).delete()
        for language, fields in texts.items():
            UpdateTranslation.objects.update_or_create(
                update=update,
                language=language,
                defaults={"title": fields["title"].strip(), "body": fields["body"].strip()},
            )
        new_image = update.image.name if update.image else ""
        if old_image and old_image != new_image:
            storage = update.image.storage
            transaction.on_commit(lambda: storage.delete(old_image))
        if update.published_at is not None:
            # The petition page shows the latest updates; readers see the correction soon.
            transaction.on_commit(lambda: pagecache.forget(petition.slug))
    return update


def publish_update(update: Update, *, now: datetime | None = None) -> Update:
    """Draft → published. Publishing twice (two clicks, two organisers) changes nothing
    the second time: the conditional update below only touches a draft."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Update.objects.filter(pk=update.pk, published_at__isnull=True).update(
            published_at=now
        )
        if changed:
            slug = update.petition.slug
            transaction.on_commit(lambda: pagecache.forget(slug))
    update.refresh_from_db()
    return update


def unpublish_update(update: Update) -> Update:
    """Published → draft: off the public pages. Refused while a mail-out of it is being
    prepared, waiting for the key or sending (cancel those first); after a finished
    mail-out it is allowed, and the link in those mails then finds nothing."""
    with transaction.atomic():
        # Lock the update so that no mail-out of it is created between the check and
        # the change (mail.mailouts.create_mailout checks that it is published).
        locked = Update.objects.select_for_update().get(pk=update.pk)
        if Mailout.objects.filter(update=locked, state__in=ACTIVE_MAILOUT_STATES).exists():
            raise UpdateRefused(
                _("A mail-out of this update is not finished. Cancel it first, then try again.")
            )
        changed = Update.objects.filter(pk=update.pk, published_at__isnull=False).update(
            published_at=None
        )
        if changed:
            slug = update.petition.slug
            transaction.on_commit(lambda: pagecache.forget(slug))
    update.refresh_from_db()
    return update


def delete_update(update: Update) -> None:
    """Delete a draft and its image. A published update is not deleted (people may have
    been mailed it); unpublish it first. One that was ever mailed stays for the record
    of that mail-out."""
    with transaction.atomic():
        locked = Update.objects.select_for_update().get(pk=update.pk)
        if locked.published_at is not None:
            raise UpdateRefused(_("A published update cannot be deleted. Unpublish it first."))
        if Mailout.objects.filter(update=locked).exists():
            raise UpdateRefused(
                _("This update was mailed to signers, so it is kept. It stays unpublished.")
            )
        image = locked.image.name if locked.image else ""
        storage = locked.image.storage
        locked.delete()
        if image:
            transaction.on_commit(lambda: storage.delete(image))


def public_updates(petition: Petition) -> QuerySet[Update]:
    """The published updates of a petition, newest first, with their texts."""
    return (
        Update.objects.filter(petition=petition, published_at__isnull=False)
        .select_related("petition")
        .prefetch_related("translations")
        .order_by("-published_at", "-pk")
    )


def organizer_updates(petition: Petition) -> QuerySet[Update]:
    """Every update of a petition, drafts first, then the published newest first."""
    return (
        Update.objects.filter(petition=petition)
        .select_related("petition")
        .prefetch_related("translations")
        .order_by(F("published_at").desc(nulls_first=True), "-created_at", "-pk")
    )
