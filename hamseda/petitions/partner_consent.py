"""A signer's separate, explicit consent to hear from a co-hosting partner.

A petition's co-hosts (Petition.co_hosts, coalition partners of its campaign) are named
on its page. Under "Keep me updated" the sign form offers one unticked box per co-host
that has a sealing key: "Let <partner> contact me about its work". Ticking it is the
only way a partner ever learns who signed:

1. `sign_petition` (petitions.services) calls `share_signature` in the signature's own
   transaction, only when a box was ticked: a petition without co-hosts, or a signer
   who ticks nothing, costs no query more.
2. The ticked ids are checked against the petition's co-hosts with a key (the form
   can be forged); a short record (name, e-mail, country, language, consent time) is
   sealed to each PARTNER's public key and kept as a SignatureShare. Nobody but the
   partner can open it, not the petition's organisation, not the server.
3. A share is usable only once its signature is confirmed: the partner's export
   (campaigns.partners.contacts_export) holds shares of validated signatures only. It
   goes with its signature (CASCADE): withdrawal, erasure, retention and the purge of
   unconfirmed signatures delete it. An invalidated signature keeps its share, unusable
   (not exported), so that undoing the invalidation restores the consent exactly.

A repeated signature (the "already signed" path) creates no share and says nothing
about any: the insert that failed was the signature, and the share is made after it.
"""

from collections.abc import Callable, Iterable
from datetime import datetime

from django.utils.translation import gettext

from hamseda.orgs.models import Organization
from hamseda.petitions.models import Petition, Signature, SignatureShare
from hamseda.vault import crypto

# More boxes than a petition could sensibly offer; more ticked ids are a forged form.
MAX_SHARES = 20


def offered_partners(petition: Petition) -> list[Organization]:
    """The co-hosts the sign form offers a box for: those with a sealing key (a partner
    without one could not be given the data sealed, so it is not offered, and the page
    says nothing about it). Uses the prefetched co-hosts when the view loaded them."""
    return [host for host in petition.co_hosts.all() if host.public_key]


def consent_label(partner: Organization) -> str:
    return gettext("Let %(partner)s contact me about its work") % {"partner": partner.name}


def consent_choices(partners: Iterable[Organization]) -> list[tuple[int, str]]:
    return [(partner.pk, consent_label(partner)) for partner in partners]


def lazy_consent_choices(petition: Petition) -> Callable[[], list[tuple[int, str]]]:
    """The sign form's choices, looked up only if the form is rendered (an error page),
    never for a valid POST."""
    return lambda: consent_choices(offered_partners(petition))


def consent_record(record: dict, now: datetime) -> dict:
    """What a partner may know of a consenting signer, from the signature's record:
    enough to contact them, nothing about why they signed (reason, postcode)."""
    return {
        "first_name": record["first_name"],
        "last_name": record["last_name"],
        "email": record["email"],
        "country": record["country"],
        "language": record["language"],
        "consented_at": now.isoformat(timespec="seconds"),
    }


def share_signature(
    petition: Petition,
    signature: Signature,
    record: dict,
    partner_ids: Iterable[int],
    *,
    now: datetime,
) -> list[SignatureShare]:
    """Seal the signer's contact record to each ticked co-host's key and keep it with the
    signature. Runs inside sign_petition's transaction; ids that are not co-hosts with a
    key (a forged form, a co-host removed or its key gone since the page was served) are
    ignored rather than refused: the signature itself is still wanted."""
    ids = sorted({int(pk) for pk in partner_ids})[:MAX_SHARES]
    if not ids:
        return []
    partners = petition.co_hosts.filter(pk__in=ids).exclude(public_key="")
    contact = consent_record(record, now)
    return SignatureShare.objects.bulk_create(
        SignatureShare(
            signature=signature,
            organization=partner,
            sealed=crypto.seal(partner.public_key, contact),
            key_id=crypto.key_id(partner.public_key),
            created_at=now,
        )
        for partner in partners
    )
