"""The organisation's secret keys for a mail-out (part of mail.mailouts' API).

Key files are what `hamseda keys generate` or the browser write: comment lines starting
with "#" and exactly one line with the base64 secret key, the format vault.decrypt
reads. The keys are only ever held in memory (PRIVACY.md rule 1).
"""

import base64
from collections.abc import Iterable

import nacl.public
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hamseda.mail.models import Mailout, MailoutRecipient, RecipientState
from hamseda.orgs.models import SealingKey
from hamseda.petitions.models import Signature
from hamseda.vault import crypto

# A key file is a few lines; anything much bigger is some other file given by mistake
# (the same limit as vault.decrypt).
KEY_FILE_LIMIT = 4096
# Recipients still to be sent: queued, or claimed by a sender that may have died.
PENDING = (RecipientState.QUEUED, RecipientState.SENDING)


def _wrong_key(message: str) -> Exception:
    # Imported here: mail.mailouts imports this module.
    from hamseda.mail.mailouts import WrongKey

    return WrongKey(message)


def read_keys(texts: Iterable[str | bytes]) -> dict[str, nacl.public.PrivateKey]:
    """Secret keys from the contents of key files, by key id.

    A key file is what `hamseda keys generate` or the browser write: comment lines
    starting with "#" and exactly one line with the base64 secret key (vault.decrypt
    reads the same format); a bare key line is a key file too.
    """
    keys: dict[str, nacl.public.PrivateKey] = {}
    for text in texts:
        private_key = _read_key(text)
        public_key = base64.b64encode(bytes(private_key.public_key)).decode()
        keys.setdefault(crypto.key_id(public_key), private_key)
    if not keys:
        raise _wrong_key(_("Give the organisation's secret key to send a mail-out."))
    return keys


def _read_key(text: str | bytes) -> nacl.public.PrivateKey:
    not_a_key = _("This is not a Hamseda secret key file.")
    if isinstance(text, bytes):
        if len(text) > KEY_FILE_LIMIT:
            raise _wrong_key(not_a_key)
        try:
            text = text.decode()
        except UnicodeDecodeError as error:
            raise _wrong_key(not_a_key) from error
    if len(text) > KEY_FILE_LIMIT:
        raise _wrong_key(not_a_key)
    values = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if len(values) != 1:
        raise _wrong_key(not_a_key)
    try:
        return crypto.parse_secret_key(values[0])
    except crypto.UnusableKey as error:
        raise _wrong_key(not_a_key) from error


def organization_key_ids(mailout: Mailout) -> set[str]:
    """Every key id the organisation has sealed to: listed keys and the current one."""
    organization = mailout.organization
    ids = set(SealingKey.objects.filter(organization=organization).values_list("key_id", flat=True))
    if organization.public_key:
        ids.add(crypto.key_id(organization.public_key))
    return ids


def needed_key_ids(mailout: Mailout) -> set[str]:
    """The key ids of the records still to be sent."""
    pending = MailoutRecipient.objects.filter(mailout=mailout, state__in=PENDING).values(
        "signature_id"
    )
    return set(Signature.objects.filter(pk__in=pending).values_list("key_id", flat=True).distinct())


def check_keys(mailout: Mailout, keys: dict[str, nacl.public.PrivateKey]) -> None:
    """WrongKey unless the keys are the organisation's and open every record to send."""
    if not keys:
        raise _wrong_key(_("Give the organisation's secret key to send a mail-out."))
    needed = needed_key_ids(mailout)
    own = organization_key_ids(mailout) | needed
    foreign = sorted(set(keys) - own)
    if foreign:
        raise _wrong_key(
            ngettext(
                "The key %(ids)s does not belong to %(organization)s. Give this "
                "organisation's secret key.",
                "The keys %(ids)s do not belong to %(organization)s. Give this "
                "organisation's secret keys.",
                len(foreign),
            )
            % {"ids": ", ".join(foreign), "organization": mailout.organization.name}
        )
    missing = sorted(needed - set(keys))
    if missing:
        raise _wrong_key(
            ngettext(
                "Some signatures were sealed to the key %(ids)s, which was not given. Give "
                "that key too (an earlier key of the organisation, before it was replaced).",
                "Some signatures were sealed to the keys %(ids)s, which were not given. "
                "Give those keys too (earlier keys of the organisation, before they were "
                "replaced).",
                len(missing),
            )
            % {"ids": ", ".join(missing)}
        )
