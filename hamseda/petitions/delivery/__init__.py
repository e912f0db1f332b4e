"""The delivery document of a petition (issue 8): a PDF for the decision-makers and a
CSV of its numbers. `hamseda deliver` and the organisers' delivery page both use these
names; docs/delivery.md describes the document.
"""

from hamseda.petitions.delivery.aggregates import aggregates_csv
from hamseda.petitions.delivery.document import (
    MAX_NAMES,
    DeliveryOptions,
    check_deliverable,
    choose_languages,
    delivery_pdf,
    document_html,
    file_name,
    plan_document,
    public_names,
    render_pdf,
)
from hamseda.petitions.delivery.errors import DeliveryError
from hamseda.petitions.delivery.reasons import (
    MAX_REASON_CHARS,
    MAX_REASONS,
    MAX_REASONS_BYTES,
    Reason,
    parse_reasons,
    read_reasons_file,
)

__all__ = [
    "MAX_NAMES",
    "MAX_REASONS",
    "MAX_REASONS_BYTES",
    "MAX_REASON_CHARS",
    "DeliveryError",
    "DeliveryOptions",
    "Reason",
    "aggregates_csv",
    "check_deliverable",
    "choose_languages",
    "delivery_pdf",
    "document_html",
    "file_name",
    "parse_reasons",
    "plan_document",
    "public_names",
    "read_reasons_file",
    "render_pdf",
]
