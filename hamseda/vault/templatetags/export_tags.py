"""`{% load export_tags %}{% if user|can_export:petition %}`: show the export button only
to those whose role may export (the export view checks again, with two-factor login)."""

from django import template

from hamseda.orgs.permissions import CAN_EXPORT, has_role

register = template.Library()


@register.filter
def can_export(user, petition) -> bool:
    return has_role(user, petition.organization, CAN_EXPORT)
