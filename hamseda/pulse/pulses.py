"""A campaign's pulse settings: reading them, saving them, and who may see the dashboard.

The dashboard is public when the organisers say so (Pulse.is_public) and the campaign
itself is public; otherwise only members of the campaign's organisation who may read
numbers see it, and everyone else gets a 404, as for anything that does not exist.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.campaigns.models import Campaign
from hamseda.orgs.permissions import CAN_VIEW_NUMBERS, has_role
from hamseda.pulse import pagecache
from hamseda.pulse.models import Pulse

# Milestones an organiser may set: a few round numbers, each a post count.
MAX_MILESTONES = 12
MAX_MILESTONE = 1_000_000_000
MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 200


class SettingsError(ValueError):
    """Settings that cannot be saved; the message is translated and safe to show."""


def pulse_of(campaign: Campaign) -> Pulse | None:
    """The campaign's saved settings, or None if the organisers never set any."""
    return Pulse.objects.filter(campaign=campaign).first()


def settings_or_default(campaign: Campaign) -> Pulse:
    """The saved settings, or the defaults (unsaved) for a campaign without any."""
    return pulse_of(campaign) or Pulse(campaign=campaign, updated_at=timezone.now())


def is_public(pulse: Pulse | None, campaign: Campaign) -> bool:
    return pulse is not None and pulse.is_public and campaign.is_public


def may_view(user, campaign: Campaign, pulse: Pulse | None) -> bool:
    """May `user` see the campaign's dashboard? The public may if it is public; the
    organisation's members who read numbers always may."""
    if is_public(pulse, campaign):
        return True
    return has_role(user, campaign.organization, CAN_VIEW_NUMBERS)


def parse_milestones(text: str) -> list[int]:
    """ "10000 40000" (spaces or commas, digits of any script) → [10000, 40000], sorted,
    each once. Raises SettingsError with a message naming what is wrong."""
    values = set()
    for word in text.replace(",", " ").replace("،", " ").split():
        digits = "".join(str(int(char)) if char.isdecimal() else char for char in word)
        if not digits.isascii() or not digits.isdigit():
            raise SettingsError(
                _("Milestones are whole numbers of posts separated by spaces, like 10000 40000.")
            )
        value = int(digits)
        if not 0 < value <= MAX_MILESTONE:
            raise SettingsError(
                _("A milestone must be between 1 and %(max)s posts.")
                % {"max": f"{MAX_MILESTONE:,}"}
            )
        values.add(value)
    if len(values) > MAX_MILESTONES:
        raise SettingsError(
            _("Set at most %(max)d milestones.") % {"max": MAX_MILESTONES},
        )
    return sorted(values)


def parse_keywords(text: str) -> list[str]:
    """One keyword or phrase per line; blank lines dropped, each once."""
    keywords: list[str] = []
    for line in text.splitlines():
        keyword = " ".join(line.split())
        if not keyword or keyword in keywords:
            continue
        if len(keyword) > MAX_KEYWORD_LENGTH:
            raise SettingsError(
                _("A keyword can be at most %(max)d characters long.") % {"max": MAX_KEYWORD_LENGTH}
            )
        keywords.append(keyword)
    if len(keywords) > MAX_KEYWORDS:
        raise SettingsError(_("Track at most %(max)d keywords.") % {"max": MAX_KEYWORDS})
    return keywords


def save_settings(
    campaign: Campaign,
    *,
    is_public: bool,
    show_wall: bool,
    keywords: str,
    milestones: str,
    now=None,
) -> Pulse:
    """Save the campaign's pulse settings (creating them the first time); the cached
    public pages are dropped, so a dashboard made organiser-only disappears at once."""
    now = now or timezone.now()
    milestone_values = parse_milestones(milestones)
    keyword_values = parse_keywords(keywords)
    with transaction.atomic():
        pulse, _created = Pulse.objects.update_or_create(
            campaign=campaign,
            defaults={
                "is_public": is_public,
                "show_wall": show_wall,
                "keywords": "\n".join(keyword_values),
                "milestones": " ".join(str(value) for value in milestone_values),
                "updated_at": now,
            },
        )
        transaction.on_commit(lambda: pagecache.forget(campaign.slug))
    return pulse
