"""The newsroom's state changes: authors, press releases and statements, publishing.

A release is a draft until it is published. Publishing with an embargo time in the
future keeps it off every public place (the press pages, the feeds, the campaign page,
the press kit) until that time, and it then appears by itself: "public" is decided
when a page or feed is read (`is_public`, `public_releases`), so no job has to run at
the embargo time, and a worker that is down cannot leak or delay a release.

Bodies are Markdown, stored as written and rendered only through the petitions'
allow-list sanitiser (petitions.markdown.render_story). Quotes, captions, roles and
bios are plain text, escaped wherever they are shown.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.campaigns.models import Campaign
from hamseda.newsroom.models import (
    Author,
    AuthorTranslation,
    PressRelease,
    PressReleaseTranslation,
    Quote,
    ReleaseKind,
)
from hamseda.orgs.models import Organization

NAME_MAX = 200
ROLE_MAX = 200
BIO_MAX = 5_000
SLUG_MAX = 80
TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 50_000
CAPTION_MAX = 300
QUOTE_MAX = 3_000
SPEAKER_MAX = 200
MAX_QUOTES = 10
SITE_LANGUAGES = [code for code, _name in settings.LANGUAGES]


class NewsroomRefused(Exception):
    """A change the newsroom does not allow; str() is a message for the organiser."""


# --- authors --------------------------------------------------------------------------


def save_author(
    organization: Organization,
    *,
    name: str,
    photo: UploadedFile | bool | None = None,
    texts: Mapping[str, Mapping[str, str]],
    author: Author | None = None,
    now: datetime | None = None,
) -> Author:
    """Create an author of `organization` (`author` None) or change `author`.

    `texts` maps a language to {"role", "bio"} (plain text); a language left out, or
    with both empty, is removed. `photo`: None keeps the current one, an uploaded file
    (checked and re-encoded by the form) replaces it, False removes it.
    """
    now = now or timezone.now()
    name = (name or "").strip()
    if author is not None and author.organization_id != organization.pk:
        raise NewsroomRefused(_("This author belongs to another organisation."))
    if not name:
        raise NewsroomRefused(_("Write the author's name."))
    if len(name) > NAME_MAX:
        raise NewsroomRefused(_("The name is too long: at most 200 characters."))
    cleaned: dict[str, dict[str, str]] = {}
    for language, fields in texts.items():
        if language not in SITE_LANGUAGES:
            raise NewsroomRefused(_("Hamseda does not speak that language."))
        role = (fields.get("role") or "").strip()
        bio = (fields.get("bio") or "").strip()
        if len(role) > ROLE_MAX or len(bio) > BIO_MAX:
            raise NewsroomRefused(_("The role or the biography is too long."))
        if role or bio:
            cleaned[language] = {"role": role, "bio": bio}
    with transaction.atomic():
        if author is None:
            author = Author(organization=organization, created_at=now)
        old_photo = author.photo.name or "" if author.photo else ""
        author.name = name
        if photo is False:
            author.photo = ""  # type: ignore[assignment]
        elif photo is not None:
            author.photo = photo  # type: ignore[assignment]
        author.save()
        AuthorTranslation.objects.filter(author=author).exclude(language__in=list(cleaned)).delete()
        for language, fields in cleaned.items():
            AuthorTranslation.objects.update_or_create(
                author=author, language=language, defaults=fields
            )
        _delete_on_commit(author.photo, old_photo)
    return author


def organization_authors(organization: Organization) -> QuerySet[Author]:
    return Author.objects.filter(organization=organization).prefetch_related("translations")


# --- releases -------------------------------------------------------------------------


def release_languages(campaign: Campaign) -> list[str]:
    """The languages a release of `campaign` may be written in: those the campaign
    itself is written in (and its main language), in the site's order."""
    codes = {t.language for t in campaign.translations.all()} | {campaign.default_language}
    return [code for code in SITE_LANGUAGES if code in codes]


def _check_slug(slug: str, release: PressRelease | None) -> str:
    slug = (slug or "").strip().lower()
    if not slug:
        raise NewsroomRefused(_("Choose a web address (slug) for the release."))
    if len(slug) > SLUG_MAX:
        raise NewsroomRefused(_("The web address is too long: at most 80 characters."))
    try:
        validate_slug(slug)
    except ValidationError as error:
        raise NewsroomRefused(
            _("The web address may only hold letters, digits, hyphens and underscores.")
        ) from error
    renamed = release is not None and release.pk and release.slug != slug
    if renamed and release is not None and release.published_at is not None:
        raise NewsroomRefused(
            _("A published release keeps its web address: people have linked to it.")
        )
    taken = PressRelease.objects.filter(slug=slug)
    if release is not None and release.pk:
        taken = taken.exclude(pk=release.pk)
    if taken.exists():
        raise NewsroomRefused(_("This web address is already taken by another release."))
    return slug


def _check_texts(
    campaign: Campaign, texts: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]]:
    allowed = release_languages(campaign)
    cleaned: dict[str, dict[str, str]] = {}
    for language, fields in texts.items():
        if language not in allowed:
            raise NewsroomRefused(_("The campaign is not written in that language."))
        values = {
            key: (fields.get(key) or "").strip()
            for key in ("title", "summary", "body", "image_caption")
        }
        if not values["title"] or not values["body"]:
            raise NewsroomRefused(_("Each language needs both a title and a text."))
        if (
            len(values["title"]) > TITLE_MAX
            or len(values["summary"]) > SUMMARY_MAX
            or len(values["body"]) > BODY_MAX
            or len(values["image_caption"]) > CAPTION_MAX
        ):
            raise NewsroomRefused(_("The title, summary, text or caption is too long."))
        cleaned[language] = values
    if not cleaned:
        raise NewsroomRefused(
            _("Write the release's title and text in at least one of the campaign's languages.")
        )
    return cleaned


def _check_quotes(campaign: Campaign, quotes: Sequence[Mapping[str, str]]) -> list[dict]:
    allowed = release_languages(campaign)
    cleaned = []
    for quote in quotes:
        values = {
            key: (quote.get(key) or "").strip()
            for key in ("language", "text", "speaker", "speaker_role")
        }
        if not values["text"] and not values["speaker"] and not values["speaker_role"]:
            continue  # An empty row of the form.
        if values["language"] not in allowed:
            raise NewsroomRefused(_("A quote is in a language the campaign is not written in."))
        if not values["text"] or not values["speaker"]:
            raise NewsroomRefused(_("Each quote needs its words and who said them."))
        if (
            len(values["text"]) > QUOTE_MAX
            or len(values["speaker"]) > SPEAKER_MAX
            or len(values["speaker_role"]) > ROLE_MAX
        ):
            raise NewsroomRefused(_("A quote, a speaker's name or role is too long."))
        cleaned.append(values)
    if len(cleaned) > MAX_QUOTES:
        raise NewsroomRefused(_("At most 10 quotes a release, please."))
    return cleaned


def _check_embargo(
    embargo_until: datetime | None, release: PressRelease | None, now: datetime
) -> datetime | None:
    """An embargo must be an aware time in the future when it is set or changed. One
    that was set earlier and has passed since is kept as it is: saving a correction to
    a release that is already out must not fail for that."""
    if embargo_until is None:
        return None
    if timezone.is_naive(embargo_until):
        raise NewsroomRefused(_("Give the embargo time with its time zone."))
    unchanged = release is not None and release.embargo_until == embargo_until
    if embargo_until <= now and not unchanged:
        raise NewsroomRefused(
            _(
                "The embargo time has already passed. Choose a time in the future, or "
                "leave it empty to publish without an embargo."
            )
        )
    return embargo_until


def save_release(
    campaign: Campaign,
    *,
    slug: str,
    kind: str,
    author: Author | None,
    image: UploadedFile | bool | None = None,
    embargo_until: datetime | None = None,
    texts: Mapping[str, Mapping[str, str]],
    quotes: Sequence[Mapping[str, str]] = (),
    release: PressRelease | None = None,
    created_by=None,
    now: datetime | None = None,
) -> PressRelease:
    """Create a release of `campaign` (`release` None) or change `release`, in one
    transaction; NewsroomRefused with a message for the organiser otherwise.

    `texts` maps a language to {"title", "summary", "body" (Markdown), "image_caption"};
    a language left out is removed. `quotes` replace the release's quotes, in order.
    `image` as for save_author's photo. A published release stays published: the
    change is a correction, visible at once (or at the embargo time).
    """
    now = now or timezone.now()
    if release is not None and release.campaign_id != campaign.pk:
        raise NewsroomRefused(_("This release belongs to another campaign."))
    if kind not in ReleaseKind.values:
        raise NewsroomRefused(_("Choose whether this is a press release or a statement."))
    if author is not None and author.organization_id != campaign.organization_id:
        raise NewsroomRefused(_("Choose an author of the campaign's organisation."))
    slug = _check_slug(slug, release)
    cleaned_texts = _check_texts(campaign, texts)
    cleaned_quotes = _check_quotes(campaign, quotes)
    embargo_until = _check_embargo(embargo_until, release, now)
    try:
        with transaction.atomic():
            if release is None:
                release = PressRelease(campaign=campaign, created_by=created_by, created_at=now)
            old_image = release.image.name or "" if release.image else ""
            release.slug = slug
            release.kind = kind
            release.author = author
            release.embargo_until = embargo_until
            release.updated_at = now
            if image is False:
                release.image = ""  # type: ignore[assignment]
            elif image is not None:
                release.image = image  # type: ignore[assignment]
            release.save()
            PressReleaseTranslation.objects.filter(release=release).exclude(
                language__in=list(cleaned_texts)
            ).delete()
            for language, fields in cleaned_texts.items():
                PressReleaseTranslation.objects.update_or_create(
                    release=release, language=language, defaults=fields
                )
            Quote.objects.filter(release=release).delete()
            Quote.objects.bulk_create(
                Quote(release=release, position=position, **values)
                for position, values in enumerate(cleaned_quotes)
            )
            _delete_on_commit(release.image, old_image)
    except IntegrityError as error:
        # Another request took the slug between the check above and the insert.
        raise NewsroomRefused(_("This web address is already taken by another release.")) from error
    return release


def publish_release(release: PressRelease, *, now: datetime | None = None) -> PressRelease:
    """Draft → published (public at once, or at its embargo time). Publishing twice
    changes nothing the second time: the conditional update only touches a draft."""
    now = now or timezone.now()
    if not release.translations.exists():
        raise NewsroomRefused(_("Write the release's title and text before publishing it."))
    PressRelease.objects.filter(pk=release.pk, published_at__isnull=True).update(
        published_at=now, updated_at=now
    )
    release.refresh_from_db()
    return release


def unpublish_release(release: PressRelease, *, now: datetime | None = None) -> PressRelease:
    """Published → draft: off every public place at the next read. Feed readers that
    fetched it already keep their copy; nothing can take that back."""
    now = now or timezone.now()
    PressRelease.objects.filter(pk=release.pk, published_at__isnull=False).update(
        published_at=None, updated_at=now
    )
    release.refresh_from_db()
    return release


# --- reading --------------------------------------------------------------------------


def is_public(release: PressRelease, now: datetime | None = None) -> bool:
    """Published, and its embargo (if any) has passed."""
    now = now or timezone.now()
    if release.published_at is None or release.published_at > now:
        return False
    return release.embargo_until is None or release.embargo_until <= now


def released_at(release: PressRelease) -> datetime | None:
    """When the release became (or becomes) public: the later of its publication and
    its embargo. This is the date shown and the feed's "published" time."""
    if release.published_at is None:
        return None
    if release.embargo_until is not None and release.embargo_until > release.published_at:
        return release.embargo_until
    return release.published_at


def state_of(release: PressRelease, now: datetime | None = None) -> str:
    """ "draft", "embargoed" (published, embargo to come) or "published"."""
    if release.published_at is None:
        return "draft"
    return "published" if is_public(release, now) else "embargoed"


def _with_texts(releases: QuerySet[PressRelease]) -> QuerySet[PressRelease]:
    return releases.select_related("campaign", "campaign__organization", "author").prefetch_related(
        "translations", "quotes", "author__translations", "campaign__translations"
    )


def public_releases(
    campaign: Campaign | None = None, now: datetime | None = None
) -> QuerySet[PressRelease]:
    """The public releases of public campaigns (of `campaign` only, if given), newest
    first by the time they became public."""
    now = now or timezone.now()
    releases = PressRelease.objects.filter(
        Q(embargo_until__isnull=True) | Q(embargo_until__lte=now),
        published_at__isnull=False,
        published_at__lte=now,
        campaign__is_public=True,
    )
    if campaign is not None:
        releases = releases.filter(campaign=campaign)
    return _with_texts(
        releases.annotate(
            public_at=Case(
                When(embargo_until__gt=F("published_at"), then=F("embargo_until")),
                default=F("published_at"),
            )
        ).order_by("-public_at", "-pk")
    )


def organizer_releases(campaign: Campaign) -> QuerySet[PressRelease]:
    """Every release of a campaign: drafts first, then newest first."""
    return _with_texts(
        PressRelease.objects.filter(campaign=campaign).order_by(
            F("published_at").desc(nulls_first=True), "-created_at", "-pk"
        )
    )


def _delete_on_commit(field, old_name: str) -> None:
    """Delete a replaced or removed file once the change is committed (a rollback
    keeps the old file, which the row still names)."""
    new_name = field.name if field else ""
    if old_name and old_name != new_name:
        storage = field.storage
        transaction.on_commit(lambda: storage.delete(old_name))
