"""The latest updates on a petition page: `{% petition_updates petition %}`."""

from django import template

from hamseda.petitions import updates
from hamseda.petitions.views.updates import shown

register = template.Library()

LATEST = 3


@register.inclusion_tag("petitions/updates/_latest.html")
def petition_updates(petition) -> dict:
    """The newest few published updates, each in the reader's language where it exists,
    and a link to all of them. Nothing when there are none (or on an unsaved preview)."""
    if petition.pk is None:
        return {"items": []}
    latest = list(updates.public_updates(petition)[: LATEST + 1])
    total = len(latest)
    if total > LATEST:
        total = updates.public_updates(petition).count()
    return {
        "petition": petition,
        "items": [shown(update) for update in latest[:LATEST]],
        "total": total,
    }
