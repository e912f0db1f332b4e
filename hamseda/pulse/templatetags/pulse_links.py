"""A link to the campaign's pulse dashboard on its page, for readers who may see it:
`{% pulse_link campaign %}` (nothing for everyone else)."""

from django import template

from hamseda.pulse import pulses

register = template.Library()


@register.inclusion_tag("pulse/_campaign_link.html", takes_context=True)
def pulse_link(context, campaign) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    pulse = pulses.pulse_of(campaign)
    if user is None:
        visible = pulses.is_public(pulse, campaign)
    else:
        visible = pulses.may_view(user, campaign, pulse)
    return {"campaign": campaign, "visible": visible}
