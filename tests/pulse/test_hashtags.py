"""Hashtags: what an organiser may type, and finding hashtags in a post's text."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hamseda.pulse.hashtags import (
    HashtagError,
    clean_hashtag,
    hashtags_in_text,
    normalise_hashtag,
)

ZWNJ = "\u200c"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("#BanTaliban", "bantaliban"),
        ("BanTaliban", "bantaliban"),
        ("  #BANTALIBAN ", "bantaliban"),
        ("＃BanTaliban", "bantaliban"),
        (f"#آزادی{ZWNJ}بیان", f"آزادی{ZWNJ}بیان"),
        ("#طالبان_نه", "طالبان_نه"),
        ("#د_افغانستان_ښځې", "د_افغانستان_ښځې"),
        ("#زن_زندگی_آزادی", "زن_زندگی_آزادی"),
        ("#Afghanistan2025", "afghanistan2025"),
        ("#۱۴۰۴_آزادی", "۱۴۰۴_آزادی"),
        # A joiner at either end joins nothing.
        (f"#{ZWNJ}آزادی{ZWNJ}", "آزادی"),
        # Harakat are marks on letters, part of the word.
        ("#مُحَمَّد", "مُحَمَّد"),
        # NFC: a decomposed é is the composed one.
        ("#Cafe\u0301", "café"),
        ("#Straße", "strasse"),
    ],
)
def test_it_normalises_hashtags_of_any_script(typed, stored):
    assert normalise_hashtag(typed) == stored


def test_clean_keeps_the_case_as_typed():
    assert clean_hashtag("#BanTaliban") == "BanTaliban"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a hashtag"),
        ("#", "Enter a hashtag"),
        ("   ", "Enter a hashtag"),
        ("#Ban Taliban", "cannot contain spaces"),
        ("#🔥", "'🔥' cannot be part of one"),
        ("#Ban🔥Taliban", "'🔥' cannot be part of one"),
        ("#Ban-Taliban", "'-' cannot be part of one"),
        ("#BanTaliban!", "'!' cannot be part of one"),
        ("##BanTaliban", "'#' cannot be part of one"),
        ("#آزادی،بیان", "'،' cannot be part of one"),
        ("#a\u200db", "'U+200D' cannot be part of one"),
        ("#tag\ufe0f", "'U+FE0F' cannot be part of one"),
        ("#2025", "at least one letter"),
        ("#" + "a" * 101, "at most 100 characters"),
    ],
)
def test_it_refuses_what_cannot_be_a_hashtag(typed, message):
    with pytest.raises(HashtagError, match=re.escape(message)):
        normalise_hashtag(typed)


def test_a_hundred_characters_is_allowed():
    assert normalise_hashtag("a" * 100) == "a" * 100


def test_the_refusal_is_translated():
    from django.utils import translation

    with translation.override("fa"), pytest.raises(HashtagError) as refused:
        normalise_hashtag("#🔥")
    assert "🔥" in str(refused.value)


def test_it_finds_the_hashtags_of_a_text():
    text = (
        f"Stop #BanTaliban now! #آزادی{ZWNJ}بیان. C# and &#39; are not tags, #2025 neither. "
        "#Afghanistan🔥 #banTALIBAN ＃x_y #a-b #د_افغانستان"
    )
    assert hashtags_in_text(text) == [
        "bantaliban",
        f"آزادی{ZWNJ}بیان",
        "afghanistan",
        "x_y",
        "a",
        "د_افغانستان",
    ]


def test_a_text_without_hashtags_has_none():
    assert hashtags_in_text("") == []
    assert hashtags_in_text("no tags here") == []


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_valid_hashtags_or_a_clear_error(text):
    for tag in hashtags_in_text(text):
        assert normalise_hashtag(tag) == tag
    try:
        normalise_hashtag(text)
    except HashtagError as error:
        message = str(error)
    else:
        message = "ok"
    assert message
