"""Coalition partners of a campaign, the petitions they co-host, and their contacts.

A partner is another organisation of this install (CampaignPartner), shown on the
campaign page with its logo, description and link. It may co-host the campaign's
petitions (Petition.co_hosts) and host its events (actions.Event.host). Signers of a
co-hosted petition may tick a box to hear from it (petitions.partner_consent); the
partner's owners and organizers export those consents, sealed to the partner's own key,
in the format of vault.export, so `hamseda decrypt` opens them (`contacts_export`).

Every change goes through a function here; each is atomic and takes `now`.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.campaigns.models import Campaign, CampaignPartner
from hamseda.orgs.models import Organization
from hamseda.petitions.models import Petition, PetitionState, SignatureShare, SignatureState
from hamseda.vault import export


class PartnerRefused(ValueError):
    """A partner change that is not allowed; the message says why, for the organiser."""


def partners_of(campaign: Campaign) -> QuerySet[CampaignPartner]:
    """The coalition, in the organisers' order."""
    return CampaignPartner.objects.filter(campaign=campaign).select_related("organization")


def _forget_file(name: str | None, storage) -> None:
    """Delete a replaced logo once the change is committed (not before: a rollback
    would leave the row naming a file that is gone)."""
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def add_partner(
    campaign: Campaign,
    organization: Organization,
    *,
    url: str = "",
    description: str = "",
    logo: UploadedFile | None = None,
    position: int = 0,
    now: datetime | None = None,
) -> CampaignPartner:
    """Add an organisation of this install to the campaign's coalition.

    `logo` must already be verified and re-encoded (partner_forms, with the petition
    image helpers): it is published as is.
    """
    if organization.pk == campaign.organization_id:
        raise PartnerRefused(_("The campaign's own organisation cannot be its partner."))
    partner = CampaignPartner(
        campaign=campaign,
        organization=organization,
        url=url,
        description=description.strip(),
        position=position,
        created_at=now or timezone.now(),
    )
    if logo:
        partner.logo = logo
    try:
        with transaction.atomic():
            partner.save()
    except IntegrityError:
        # The unique constraint settles two organisers adding the same partner at once.
        raise PartnerRefused(
            _("%(name)s is already a partner of this campaign.") % {"name": organization.name}
        ) from None
    return partner


def update_partner(
    partner: CampaignPartner,
    *,
    url: str,
    description: str,
    position: int,
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
) -> CampaignPartner:
    """Change how a partner is shown. A new `logo` (re-encoded) replaces the old one;
    `remove_logo` drops it."""
    old_logo = partner.logo.name if partner.logo else ""
    with transaction.atomic():
        partner.url = url
        partner.description = description.strip()
        partner.position = position
        if logo:
            partner.logo = logo
        elif remove_logo:
            partner.logo = ""
        partner.save()
        if old_logo and partner.logo.name != old_logo:
            _forget_file(old_logo, partner.logo.storage)
    return partner


def remove_partner(partner: CampaignPartner) -> None:
    """Take a partner out of the coalition.

    Refused while it hosts a published event of the campaign or co-hosts an open
    petition of it: supporters are relying on those. Otherwise it stops co-hosting the
    campaign's petitions that are not public yet (drafts); closed and won petitions keep
    it named, as that is what their signers saw. Consents already given stay the
    partner's until their signatures are withdrawn, erased or purged.
    """
    from hamseda.actions.models import Event, PublicationState

    campaign = partner.campaign
    organization = partner.organization
    with transaction.atomic():
        # Lock the partnership, so an organiser choosing it as a co-host at this moment
        # (set_co_hosts, which locks it too) is either before or after us.
        locked = CampaignPartner.objects.select_for_update().filter(pk=partner.pk)
        if not list(locked.values_list("pk", flat=True)):
            return  # Removed by someone else meanwhile.
        if Event.objects.filter(
            day__campaign=campaign, host=organization, state=PublicationState.PUBLISHED
        ).exists():
            raise PartnerRefused(
                _(
                    "%(name)s hosts a published event of this campaign. Cancel the event "
                    "or choose another host first."
                )
                % {"name": organization.name}
            )
        if Petition.objects.filter(
            campaign=campaign, co_hosts=organization, state=PetitionState.OPEN
        ).exists():
            raise PartnerRefused(
                _(
                    "%(name)s co-hosts an open petition of this campaign: signers may be "
                    "ticking its box right now. Remove it once the petition is closed."
                )
                % {"name": organization.name}
            )
        not_public = Petition.objects.filter(campaign=campaign).exclude(
            state__in=[PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON]
        )
        Petition.co_hosts.through.objects.filter(
            petition__in=not_public, organization=organization
        ).delete()
        logo = (partner.logo.name or "") if partner.logo else ""
        storage = partner.logo.storage
        partner.delete()
        _forget_file(logo, storage)


# --- co-hosted petitions ------------------------------------------------------------------


def possible_co_hosts(organization: Organization) -> QuerySet[Organization]:
    """Organisations that may co-host a petition of `organization`: partners of any of
    its campaigns (the chosen campaign is checked by `set_co_hosts`)."""
    return Organization.objects.filter(partnerships__campaign__organization=organization).distinct()


def check_co_hosts(
    campaign: Campaign | None, organizations: Iterable[Organization], *, lock: bool = False
) -> None:
    """Refuse co-hosts that are not partners of the petition's campaign. With `lock`
    (inside a transaction), the partnerships stay locked until it ends, so that
    remove_partner cannot slip in between."""
    chosen = {organization.pk: organization for organization in organizations}
    if not chosen:
        return
    partnerships = CampaignPartner.objects.filter(campaign=campaign, organization__in=list(chosen))
    if lock:
        partnerships = partnerships.select_for_update()
    partners = set(partnerships.values_list("organization_id", flat=True)) if campaign else set()
    strangers = [chosen[pk].name for pk in chosen if pk not in partners]
    if strangers:
        raise PartnerRefused(
            _("Only partners of the petition's campaign can co-host it; not: %(names)s.")
            % {"names": ", ".join(sorted(strangers))}
        )


def set_co_hosts(petition: Petition, organizations: Iterable[Organization]) -> None:
    """Set a petition's co-hosts, checked against its campaign's partners. Call inside
    the petition's saving transaction (petitions.services.save_petition)."""
    organizations = list(organizations)
    with transaction.atomic():
        check_co_hosts(petition.campaign, organizations, lock=True)
        petition.co_hosts.set(organizations)


# --- a partner's view ---------------------------------------------------------------------


@dataclass(frozen=True)
class CoHosted:
    petition: Petition
    confirmed: int  # the petition's public count
    consents: int  # confirmed signers who ticked this partner's box


@dataclass(frozen=True)
class Partnership:
    partner: CampaignPartner
    petitions: list[CoHosted]
    consents: int


def consenting(organization: Organization, campaign: Campaign) -> QuerySet[SignatureShare]:
    """The shares a partner may use: of confirmed signatures on the campaign's petitions."""
    return SignatureShare.objects.filter(
        organization=organization,
        signature__petition__campaign=campaign,
        signature__state=SignatureState.VALIDATED,
    )


def partnerships_of(organizations: Iterable[Organization]) -> list[Partnership]:
    """For a partner's members: the campaigns their organisations are partners of, the
    petitions they co-host there, with counts (no personal data)."""
    partners = list(
        CampaignPartner.objects.filter(organization__in=list(organizations))
        .select_related("campaign", "organization")
        .prefetch_related("campaign__translations")
        .order_by("organization__name", "-created_at")
    )
    if not partners:
        return []
    org_ids = {p.organization_id for p in partners}
    campaign_ids = {p.campaign_id for p in partners}
    petitions = (
        Petition.objects.filter(campaign_id__in=campaign_ids, co_hosts__in=org_ids)
        .filter(state__in=[PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON])
        .prefetch_related("translations", "co_hosts")
        .distinct()
    )
    consents = {
        (row["organization_id"], row["signature__petition_id"]): row["n"]
        for row in SignatureShare.objects.filter(
            organization_id__in=org_ids,
            signature__petition__campaign_id__in=campaign_ids,
            signature__state=SignatureState.VALIDATED,
        )
        .values("organization_id", "signature__petition_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    result = []
    for partner in partners:
        hosted = [
            CoHosted(
                petition,
                petition.signature_count,
                consents.get((partner.organization_id, petition.pk), 0),
            )
            for petition in petitions
            if petition.campaign_id == partner.campaign_id
            and any(host.pk == partner.organization_id for host in petition.co_hosts.all())
        ]
        result.append(Partnership(partner, hosted, sum(h.consents for h in hosted)))
    return result


# --- the partner's export -----------------------------------------------------------------

SHARE_FIELDS = (
    "sealed",
    "key_id",
    "signature__state",
    "signature__country",
    "created_at",
    "signature__validated_at",
)


def has_partner_data(organization: Organization, campaign: Campaign) -> bool:
    """Is `organization` a partner of the campaign, or does it still hold consents on it
    (a partner removed after its petitions closed)?"""
    return (
        CampaignPartner.objects.filter(campaign=campaign, organization=organization).exists()
        or SignatureShare.objects.filter(
            organization=organization, signature__petition__campaign=campaign
        ).exists()
    )


def plan_contacts_export(
    organization: Organization, campaign: Campaign, *, now: datetime | None = None
) -> export.SealedRecords:
    """The partner's consenting, confirmed signers on the campaign's petitions, sealed to
    the partner's key(s), as a vault.export file ("campaign" instead of "petition" in
    the header). Shares made while it streams are left out (the highest id is fixed
    now), so the header stays true."""
    now = now or timezone.now()
    shares = consenting(organization, campaign)
    upto = shares.aggregate(top=Max("pk"))["top"] or 0
    included = shares.filter(pk__lte=upto)
    header = export.make_header(
        organization,
        campaign=campaign.slug,
        now=now,
        records=included.count(),
        key_ids=included.values_list("key_id", flat=True).distinct(),
    )

    def produce() -> Iterator[dict[str, Any]]:
        rows = (
            included.order_by("pk")
            .values_list(*SHARE_FIELDS)
            .iterator(chunk_size=export.CHUNK_SIZE)
        )
        for sealed, key_id, state, country, created_at, validated_at in rows:
            yield export.export_record(
                sealed,
                key_id,
                state=state,
                country=country,
                show_name=False,
                # The signer asked this partner to contact them: that is the consent.
                keep_updated=True,
                created_at=created_at,
                validated_at=validated_at,
            )

    return export.SealedRecords(header=header, produce=produce)


def start_contacts_export(
    organization: Organization,
    campaign: Campaign,
    *,
    actor=None,
    via: str,
    now: datetime | None = None,
) -> export.SealedRecords:
    """Plan the export and write its audit event to the PARTNER's log before any data
    leaves (as vault.export.start_export does)."""
    from hamseda.integrity.audit import record
    from hamseda.integrity.models import AuditAction

    now = now or timezone.now()
    plan = plan_contacts_export(organization, campaign, now=now)
    record(
        AuditAction.EXPORT,
        organization=organization,
        actor=actor,
        subject=f"partner contacts: {campaign.slug}",
        details={
            "campaign": campaign.slug,
            "partner_contacts": True,
            "records": plan.records,
            "key_ids": plan.header["key_ids"],
            "via": via,
        },
        now=now,
    )
    return plan


def contacts_file_name(plan: export.SealedRecords) -> str:
    """hamseda-<partner>-<campaign>-contacts-<UTC time>.jsonl (slugs are ASCII)."""
    moment = datetime.fromisoformat(plan.header["created_at"]).strftime("%Y%m%d-%H%M%S")
    slug = plan.header["organization"]["slug"]
    return f"hamseda-{slug}-{plan.header['campaign']}-contacts-{moment}.jsonl"
