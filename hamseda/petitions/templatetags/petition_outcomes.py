"""The outcome banner, milestones and decision-makers' responses on a petition page.

Texts keep the language they were written in, whatever the page's: each carries its
own `lang` and `dir`, so a Dari response on the English page still reads right to left.
"""

from django import template
from django.conf import settings

from hamseda.languages import pick
from hamseda.petitions import outcomes
from hamseda.petitions.markdown import render_story
from hamseda.petitions.models import PetitionState, ResponseSource, ThresholdAction
from hamseda.petitions.responses import visible_responses

register = template.Library()


def direction(language: str) -> str:
    return "rtl" if language in settings.LANGUAGES_BIDI else "ltr"


@register.inclusion_tag("petitions/outcomes/_banner.html")
def petition_outcome(petition) -> dict:
    """ "Victory!" or "This petition is closed", with the closing statement in the
    reader's language (else the petition's main language) and the date."""
    if petition.state not in outcomes.OUTCOMES:
        return {"show": False}
    written = {t.language: t for t in petition.translations.all() if t.closing_statement}
    chosen = pick(written, petition.default_language) if written else None
    return {
        "show": True,
        "won": petition.state == PetitionState.WON,
        "day": outcomes.outcome_date(petition),
        "statement": render_story(chosen.closing_statement) if chosen else "",
        "lang": chosen.language if chosen else "",
        "dir": direction(chosen.language) if chosen else "",
    }


@register.inclusion_tag("petitions/outcomes/_milestones.html")
def petition_milestones(petition) -> dict:
    """The milestones reached, with their dates, and the next one with what it will
    bring. Several milestones at one count show as one line."""
    items = list(petition.thresholds.all())
    reached: dict[int, dict] = {}
    for item in items:
        if item.reached_at is not None:
            entry = reached.setdefault(
                item.count, {"count": item.count, "day": item.reached_at, "descriptions": []}
            )
            entry["day"] = min(entry["day"], item.reached_at)
            if item.description:
                entry["descriptions"].append(item.description)
    waiting = [item for item in items if item.reached_at is None]
    upcoming = None
    if waiting:
        count = min(item.count for item in waiting)
        at_count = [item for item in waiting if item.count == count]
        upcoming = {
            "count": count,
            "descriptions": [item.description for item in at_count if item.description],
            "asks": any(item.action == ThresholdAction.ASK_RESPONSE for item in at_count),
        }
    language = petition.default_language
    return {
        "show": bool(items),
        "reached": sorted(reached.values(), key=lambda entry: entry["count"]),
        "upcoming": upcoming,
        "lang": language,
        "dir": direction(language),
    }


@register.inclusion_tag("petitions/outcomes/_responses.html")
def petition_responses(petition) -> dict:
    """The visible responses, newest first, each in its own language."""
    return {
        "responses": [
            {
                "id": response.pk,
                "name": response.decision_maker.name,
                "position": response.decision_maker.position,
                "day": response.responded_on,
                "body": render_story(response.body),
                "lang": response.language,
                "dir": direction(response.language),
                "offline": response.source == ResponseSource.OFFLINE,
            }
            for response in visible_responses(petition)
        ]
    }
