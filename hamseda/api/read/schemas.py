"""What every read endpoint shares: the error body, the language and paging queries,
and the helpers that turn stored texts into an answer in the reader's language."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from django.db.models import QuerySet
from django.utils import translation
from ninja import Field, Schema

from hamseda.api.errors import ErrorOut
from hamseda.petitions.markdown import render_story

__all__ = ["ErrorOut"]  # The error body of every answer (api.errors), for the routers.

Language = Literal["en", "fa", "ps"]
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


class LanguageQuery(Schema):
    lang: Language = Field(
        "en",
        description="Language of the texts (en, fa, ps); a text missing in it comes in "
        "the original language of the item",
    )


class ListQuery(LanguageQuery):
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="Items per page")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip")


class PageOut(Schema):
    """Every list answers {items, count, limit, offset}."""

    count: int = Field(description="Number of matching items in all pages")
    limit: int
    offset: int


def page(queryset: QuerySet, query: ListQuery) -> tuple[list, dict]:
    """The requested slice of `queryset`, and the paging fields of the answer. The
    count is one COUNT query over the (small) table of the listed objects."""
    items = list(queryset[query.offset : query.offset + query.limit])
    return items, {"count": queryset.count(), "limit": query.limit, "offset": query.offset}


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Pick texts and build page links in `language` (languages.pick and reverse() read
    the active language)."""
    with translation.override(language):
        yield


def markdown_html(text: str) -> str:
    """Markdown as the pages show it: rendered, then sanitised with their allow-list."""
    return str(render_story(text)) if text else ""
