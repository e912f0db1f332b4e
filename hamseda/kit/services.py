"""State changes of the kit: a campaign's design.

Images need no invalidation when the design changes: their cache keys contain
content.design_key(campaign), which changes with every field saved here (a new logo or
background gets a new random file name), so the next request renders afresh and the
old entries expire by themselves.
"""

from functools import partial

from django.core.files.base import File
from django.db import transaction

from hamseda.campaigns.models import Campaign
from hamseda.integrity import audit
from hamseda.integrity.models import AuditAction
from hamseda.kit import imagecache
from hamseda.kit.design import LAYOUTS, SIZES
from hamseda.languages import CODES


def _forget_images(campaign: Campaign) -> None:
    """The image addresses remember their file for a few seconds (kit.imagecache
    aliases); forget them, so the new design shows at once."""
    slugs = campaign.petitions.values_list("slug", flat=True)
    imagecache.forget_aliases(
        [
            imagecache.image_alias(slug, size, language)
            for slug in slugs
            for size in SIZES
            for language in CODES
        ]
    )


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


# For `logo` and `background`: leave the stored file as it is.
KEEP = _Keep()


def update_design(
    campaign: Campaign,
    *,
    colour: str,
    accent_colour: str,
    layout: str,
    eastern_digits: bool,
    logo: File | _Keep | None = KEEP,
    background: File | _Keep | None = KEEP,
    by,
    now=None,
) -> Campaign:
    """Save the kit design of `campaign`; `logo` and `background` are a new file (already
    checked and re-encoded by kit.forms), None to remove the current one, or KEEP.

    `by` is the organiser who saved it (their role was checked by the view); the change
    is written to the organisation's audit log. Replaced files are
    deleted from storage once the transaction has committed, so a rollback never leaves
    the campaign pointing at a deleted file.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    with transaction.atomic():
        # The row lock orders two organisers saving at once: each replaces the files it
        # read under the lock, so no stored file is orphaned or deleted while in use.
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        replaced = []
        locked.colour = colour.lower()
        locked.accent_colour = accent_colour.lower()
        locked.kit_layout = layout
        locked.eastern_digits = eastern_digits
        for name, new in (("logo", logo), ("background", background)):
            if isinstance(new, _Keep):
                continue
            field = getattr(locked, name)
            if field:
                replaced.append((field.storage, field.name))
            if new is None:
                setattr(locked, name, "")
            else:
                # Saves the file under the field's upload_to with the new file's name.
                field.save(new.name, new, save=False)
        locked.save()
        audit.record(
            AuditAction.KIT_DESIGN,
            organization=locked.organization,
            actor=by,
            subject=locked.slug,
            details={
                "colour": locked.colour,
                "accent_colour": locked.accent_colour,
                "layout": layout,
                "eastern_digits": eastern_digits,
                "logo": "kept" if logo is KEEP else ("removed" if logo is None else "new"),
                "background": (
                    "kept" if background is KEEP else ("removed" if background is None else "new")
                ),
            },
            now=now,
        )
        for storage, name in replaced:
            transaction.on_commit(partial(storage.delete, name))
        transaction.on_commit(lambda: _forget_images(locked))
    # The caller's instance shows what was saved (its design_key changes with it).
    for field in ("colour", "accent_colour", "kit_layout", "eastern_digits", "logo", "background"):
        setattr(campaign, field, getattr(locked, field))
    return campaign
