"""Dates, times and the map of days of action and events (docs/actions.md,
"Calendars, dates and the map").

- `{% local_date value %}` / `{% local_date value "Europe/London" %}`: a date in the
  reader's language; for Dari and Pashto readers the Solar Hijri date first, with Afghan
  month names, e.g. "۲۴ حوت ۱۴۰۴ (15 مارس 2026)".
- `{% event_times event %}`: start and end in the event's own zone with the zone's
  abbreviation and UTC offset at each moment, UTC as a fallback, and a hook that
  `hamseda/local-times.js` fills with the reader's own time.
- `{% day_map day %}`: an inline SVG map with a marker per event that has coordinates.
"""

import datetime

from django import template
from django.utils import dateformat, formats, timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from hamseda.actions import hijri, maps, times
from hamseda.languages import current_language

register = template.Library()


def _as_date(value, zone_name: str | None) -> datetime.date:
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            tz = times.zone(zone_name) if zone_name else timezone.get_current_timezone()
            value = value.astimezone(tz)
        return value.date()
    return value


def format_local_date(value, zone_name: str | None = None) -> str:
    """The date in the reader's language (Django's DATE_FORMAT with our catalogue's month
    names); for Dari and Pashto preceded by the Solar Hijri date."""
    if value in (None, ""):
        return ""
    day = _as_date(value, zone_name)
    gregorian = formats.date_format(day, "DATE_FORMAT")
    language = current_language()
    if language in hijri.LANGUAGES:
        return f"{hijri.format_solar_hijri(day, language)} ({gregorian})"
    return gregorian


@register.simple_tag
def local_date(value, zone_name: str | None = None) -> str:
    """A date, or an aware datetime's date in `zone_name` (default: the current zone)."""
    return format_local_date(value, zone_name)


def _moment(value: datetime.datetime, zone_name: str) -> dict:
    seen = times.in_zone(value, zone_name)
    return {
        "date": format_local_date(seen.local.date()),
        "time": dateformat.format(seen.local, "H:i"),
        "label": seen.label,
        "iso": seen.iso_utc,
        "utc_date": format_local_date(seen.utc.date()),
        "utc_time": dateformat.format(seen.utc, "H:i"),
    }


@register.inclusion_tag("actions/tags/event_times.html")
def event_times(event) -> dict:
    """The event's times in its own zone, in UTC, and (with JavaScript) the reader's."""
    start = _moment(event.starts_at, event.time_zone)
    end = _moment(event.ends_at, event.time_zone)
    zone_name = event.time_zone if times.is_valid_zone(event.time_zone) else "UTC"
    return {
        "start": start,
        "end": end,
        "same_day": start["date"] == end["date"],
        "same_utc_day": start["utc_date"] == end["utc_date"],
        "same_label": start["label"] == end["label"],
        "zone_name": zone_name,
        "intl_locale": times.INTL_LOCALES.get(current_language(), current_language()),
        "your_time": _("Your time:"),
    }


@register.simple_tag
def day_map(day) -> SafeString:
    """An inline SVG map of the day's published events that have coordinates, or ""."""
    return maps.render_day_map(day)
