"""Absolute links to this site, for what leaves it (mails, share links, the API): the
public address (HAMSEDA_BASE_URL) followed by a path from reverse() or
get_absolute_url()."""

from django.conf import settings


def absolute_url(path: str) -> str:
    return settings.BASE_URL + path
