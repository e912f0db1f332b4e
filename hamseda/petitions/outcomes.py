"""The outcome of a petition: won or closed, with the organisers' closing statement in
each of its languages, shown as a banner at the top of its page.

The state change goes through the petition's own transitions (services.mark_won,
services.close_petition); the statement is saved on PetitionTranslation in the same
transaction. Once a petition is won or closed its statement can still be edited, and a
closed petition can still be marked won (not the other way round).
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.api import webhooks
from hamseda.petitions import pagecache, services
from hamseda.petitions.models import Petition, PetitionState, PetitionTranslation

OUTCOMES = (PetitionState.WON, PetitionState.CLOSED)
MAX_STATEMENT = 10_000


class OutcomeError(Exception):
    """An outcome that cannot be set; str() is a translated message."""


def _clean_statements(petition: Petition, statements: dict[str, str]) -> dict[str, str]:
    languages = set(petition.translations.values_list("language", flat=True))
    cleaned = {}
    for language, text in statements.items():
        if language not in languages:
            raise OutcomeError(_("The petition has no text in that language."))
        text = (text or "").strip()
        if len(text) > MAX_STATEMENT:
            raise OutcomeError(
                _("A closing statement is at most %(max)s characters.")
                % {"max": f"{MAX_STATEMENT:,}"}
            )
        if "\x00" in text:
            raise OutcomeError(_("The statement contains a character that cannot be stored."))
        cleaned[language] = text
    return cleaned


def set_outcome(
    petition: Petition,
    *,
    outcome: str,
    statements: dict[str, str],
    now: datetime | None = None,
) -> Petition:
    """Mark the petition won or closed (if it is not already) and save its closing
    statement per language; a language left out keeps its statement, an empty text
    clears it."""
    now = now or timezone.now()
    if outcome not in OUTCOMES:
        raise OutcomeError(_("Choose whether the petition was won or is closed."))
    statements = _clean_statements(petition, statements)
    with transaction.atomic():
        try:
            if outcome == PetitionState.WON and petition.state != PetitionState.WON:
                services.mark_won(petition, now=now)
            elif outcome == PetitionState.CLOSED and petition.state != PetitionState.CLOSED:
                services.close_petition(petition, now=now)
        except services.TransitionRefused:
            if petition.state == PetitionState.WON:
                message = _("A won petition stays won.")
            else:
                message = _("Only an open petition can be closed or marked as won.")
            raise OutcomeError(message) from None
        for language, text in statements.items():
            PetitionTranslation.objects.filter(petition=petition, language=language).update(
                closing_statement=text
            )
        # Partners' webhooks, once per outcome (api.webhooks), in this transaction.
        webhooks.queue_outcome(petition, now=now)
        transaction.on_commit(lambda: pagecache.forget(petition.slug))
    petition.refresh_from_db()
    return petition


def outcome_date(petition: Petition) -> datetime | None:
    if petition.state == PetitionState.WON:
        return petition.won_at
    if petition.state == PetitionState.CLOSED:
        return petition.closed_at
    return None
