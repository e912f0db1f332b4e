"""Time zones of events: valid IANA names, and an event's times as its city reads them.

Times are stored in UTC; every event carries the IANA zone of its city (`time_zone`).
What a reader sees is computed here with `zoneinfo`, so daylight saving time is always
the one in force at that instant: an event in London on 20 October shows BST (UTC+1),
one on 1 November GMT (UTC+0), and one that starts before the change and ends after it
shows each end with its own offset.
"""

import datetime
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

UTC = datetime.UTC

# The locale the reader's browser should format "your time" in (local-times.js): Dari and
# Pashto as written in Afghanistan, so Intl uses the Solar Hijri calendar with Afghan
# month names there.
INTL_LOCALES = {"en": "en-GB", "fa": "fa-AF", "ps": "ps-AF"}


@lru_cache(maxsize=512)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def is_valid_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine knows ("Europe/London", not "BST")."""
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        return False
    try:
        _zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone called `name`; UTC for a name that is not (or no longer) known, so a page
    never fails because tzdata dropped a zone after the event was saved."""
    if is_valid_zone(name):
        return _zone(name)
    return _zone("UTC")


def utc_offset_label(value: datetime.datetime) -> str:
    """ "UTC+1", "UTC−8", "UTC+4:30", "UTC+0" for an aware datetime."""
    offset = value.utcoffset() or datetime.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "−"  # U+2212 MINUS SIGN, as typography wants.
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_abbreviation(value: datetime.datetime) -> str:
    """ "BST", "PDT", "CET" — or "" where tzdata has no letters for the zone (it writes
    "+0430" for Kabul), since an offset is already shown next to it."""
    name = value.tzname() or ""
    return name if name.isalpha() else ""


def zone_label(value: datetime.datetime) -> str:
    """ "BST (UTC+1)", or only "UTC+4:30" where the zone has no abbreviation."""
    abbreviation = zone_abbreviation(value)
    offset = utc_offset_label(value)
    if abbreviation == "UTC" and offset == "UTC+0":
        return "UTC"
    return f"{abbreviation} ({offset})" if abbreviation else offset


@dataclass(frozen=True)
class ZonedTime:
    local: datetime.datetime  # in the event's zone
    utc: datetime.datetime
    label: str  # "BST (UTC+1)"

    @property
    def iso_utc(self) -> str:
        """For <time datetime>: "2026-03-15T12:00:00Z"."""
        return self.utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def in_zone(value: datetime.datetime, zone_name: str) -> ZonedTime:
    """An aware datetime seen in the zone `zone_name`."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: event times are always aware")
    local = value.astimezone(zone(zone_name))
    return ZonedTime(local=local, utc=value.astimezone(UTC), label=zone_label(local))
