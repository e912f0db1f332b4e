"""The delivery document's numbers as CSV: counts only, no personal data.

Rows: the confirmed total, the number invalidated, one per country (code, name,
count), one per UTC day (date, count, cumulative). UTF-8 with a byte-order mark, so
spreadsheet programs read Dari and Pashto country names correctly, and every text cell
neutralised against formula injection (as the organisers' other CSV downloads are).
"""

import csv
import io

from django.utils import translation
from django.utils.translation import gettext as _

from hamseda.petitions.countries import country_name
from hamseda.petitions.models import Petition
from hamseda.vault.decrypt import FORMULA_STARTS

HEADER = ["row", "code", "name", "date", "count", "cumulative"]


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet would run as a formula, prefixed with an apostrophe (the same
    rule as the decrypted export's, vault.decrypt.FORMULA_STARTS)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def aggregates_csv(petition: Petition, language: str) -> str:
    """The CSV text, with its byte-order mark; country names in `language`."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    with translation.override(language):
        writer.writerow(
            ["total", "confirmed", _("Confirmed signatures"), "", petition.signature_count, ""]
        )
        writer.writerow(
            ["total", "invalidated", _("Removed as invalid"), "", petition.invalidated_count, ""]
        )
    countries = sorted(
        petition.country_counts.filter(count__gt=0).values_list("country", "count"),
        key=lambda row: (-row[1], row[0]),
    )
    for code, count in countries:
        name = country_name(code, language)
        writer.writerow(["country", spreadsheet_safe(code), spreadsheet_safe(name), "", count, ""])
    running = 0
    for day, count in petition.daily_counts.order_by("day").values_list("day", "count"):
        running += count
        writer.writerow(["day", "", "", day.isoformat(), count, running])
    return out.getvalue()
