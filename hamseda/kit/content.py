"""From models to the kit's plain values (kit.design): a campaign's Design and a
petition's Content in one language. Renderers never see a model."""

import logging
import threading

from django.utils import translation
from django.utils.translation import gettext as _

from hamseda.kit.design import DEFAULT_LAYOUT, LAYOUTS, Content, Design
from hamseda.kit.numbers import display_count
from hamseda.links import absolute_url
from hamseda.petitions.sources import tagged_url

logger = logging.getLogger(__name__)

# Decoded design files per design key: a logo and background are read from storage
# once per process and design, not for every image request.
_designs: dict[str, Design] = {}
_designs_lock = threading.Lock()


def design_key(campaign) -> str:
    """What identifies a campaign's current design without reading its files: the
    stored file names change whenever an organiser uploads a new file."""
    if campaign is None:
        return "default"
    return "\x1f".join(
        str(part)
        for part in (
            campaign.pk,
            campaign.colour,
            campaign.accent_colour,
            campaign.kit_layout,
            campaign.eastern_digits,
            campaign.logo.name if campaign.logo else "",
            campaign.background.name if campaign.background else "",
        )
    )


def _read(field) -> bytes | None:
    if not field:
        return None
    try:
        with field.open("rb") as handle:
            return handle.read()
    except OSError:
        # A file removed from storage behind our back: the kit renders without it.
        logger.warning("kit: design file %s could not be read", field.name)
        return None


def design_for(campaign) -> Design:
    """The campaign's Design (the defaults without a campaign)."""
    if campaign is None:
        return Design()
    key = design_key(campaign)
    with _designs_lock:
        known = _designs.get(key)
    if known is not None:
        return known
    design = Design(
        colour=campaign.colour,
        accent=campaign.accent_colour,
        layout=campaign.kit_layout if campaign.kit_layout in LAYOUTS else DEFAULT_LAYOUT,
        logo=_read(campaign.logo),
        background=_read(campaign.background),
        eastern_digits=campaign.eastern_digits,
    )
    with _designs_lock:
        if len(_designs) > 64:
            _designs.clear()
        _designs[key] = design
    return design


def languages_of(petition) -> list[str]:
    """The languages the petition has a text in, its default language first."""
    codes = [t.language for t in petition.translations.all()]
    return sorted(codes, key=lambda code: (code != petition.default_language, code))


def content_for(petition, language: str, *, channel: str = "kit", sharer_code: str = "") -> Content:
    """The words of the petition's kit images in `language`.

    A language the petition has no text in falls back to its default language as a
    whole (title, phrases and direction), so an image never mixes a Pashto frame with
    an English title."""
    texts = {t.language: t for t in petition.translations.all()}
    if language not in texts:
        language = petition.default_language if petition.default_language in texts else "en"
    text = texts.get(language)
    campaign = petition.campaign
    count, exact = display_count(petition.signature_count)
    with translation.override(language):
        url = absolute_url(petition.get_absolute_url())
        call_to_action = _("Sign the petition")
        campaign_text = campaign.text() if campaign else None
    return Content(
        language=language,
        title=text.title if text else petition.slug,
        hashtags=tuple(f"#{tag}" for tag in campaign.hashtag_list) if campaign else (),
        count=count,
        count_is_exact=exact,
        url=tagged_url(url, channel, sharer_code),
        campaign_name=campaign_text.name if campaign_text else "",
        call_to_action=call_to_action,
    )
