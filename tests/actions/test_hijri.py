"""Solar Hijri dates with Afghan month names for Dari and Pashto readers."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from hamseda.actions import hijri

DARI = [
    "حمل",
    "ثور",
    "جوزا",
    "سرطان",
    "اسد",
    "سنبله",
    "میزان",
    "عقرب",
    "قوس",
    "جدی",
    "دلو",
    "حوت",
]
PASHTO = [
    "وری",
    "غویی",
    "غبرګولی",
    "چنګاښ",
    "زمری",
    "وږی",
    "تله",
    "لړم",
    "لیندۍ",
    "مرغومی",
    "سلواغه",
    "کب",
]


@pytest.mark.parametrize(
    ("gregorian", "solar"),
    [
        (datetime.date(2026, 3, 21), (1405, 1, 1)),  # Nowruz 1405
        (datetime.date(2026, 3, 20), (1404, 12, 29)),  # the last day of 1404
        (datetime.date(2026, 3, 15), (1404, 12, 24)),  # the founding day of action
        (datetime.date(2025, 3, 21), (1404, 1, 1)),  # Nowruz 1404
        (datetime.date(2025, 3, 20), (1403, 12, 30)),  # 1403 was a leap year
        (datetime.date(2021, 8, 15), (1400, 5, 24)),  # 24 Asad 1400, the fall of Kabul
        (datetime.date(2026, 9, 23), (1405, 7, 1)),  # 1 Mizan: the autumn equinox
    ],
)
def test_it_converts_known_dates(gregorian, solar):
    assert hijri.to_solar_hijri(gregorian) == solar


def test_it_names_the_afghan_months():
    assert [hijri.month_name(month, "fa") for month in range(1, 13)] == DARI
    assert [hijri.month_name(month, "ps") for month in range(1, 13)] == PASHTO
    # Pashto g is ګ (U+06AB), not the Persian گ.
    assert "\u06af" not in "".join(PASHTO)


def test_it_writes_eastern_arabic_indic_digits():
    assert hijri.format_solar_hijri(datetime.date(2026, 3, 15), "fa") == "۲۴ حوت ۱۴۰۴"
    assert hijri.format_solar_hijri(datetime.date(2026, 3, 21), "ps") == "۱ وری ۱۴۰۵"
    assert hijri.eastern_digits("1404/12/24") == "۱۴۰۴/۱۲/۲۴"


def render(language: str, value) -> str:
    with translation.override(language):
        return Template("{% load action_dates %}{% local_date value %}").render(
            Context({"value": value})
        )


def test_it_shows_both_calendars_to_dari_and_pashto_readers():
    day = datetime.date(2026, 3, 15)
    assert render("fa", day) == "۲۴ حوت ۱۴۰۴ (15 مارچ 2026)"
    assert render("ps", day) == "۲۴ کب ۱۴۰۴ (15 مارچ 2026)"
    assert render("en", day) == "March 15, 2026"


@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2200, 12, 31)))
def test_it_converts_every_day_forward_by_one(day):
    """Consecutive days give consecutive Solar Hijri days: no gap, no repeat."""
    year, month, date = hijri.to_solar_hijri(day)
    following = hijri.to_solar_hijri(day + datetime.timedelta(days=1))
    if following[0] == year and following[1] == month:
        assert following[2] == date + 1
    else:
        assert following[2] == 1
        assert date >= 29
    assert 1 <= month <= 12
