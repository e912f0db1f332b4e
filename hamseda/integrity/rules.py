"""The integrity rules, as data: what the sign form refuses or limits, and why.

Every rule has a default here. An operator can change any of them for the whole site
(settings.HAMSEDA["INTEGRITY_RULES"], from the environment variable
HAMSEDA_INTEGRITY_RULES as JSON), and an organiser any per-petition one for one petition
(`Petition.limits`, e.g. {"per_network_10min": 30} for a petition signed at a rally
where hundreds share one Wi-Fi). docs/integrity.md explains each with its reasons.

The defaults, and why:

per_network_10min = 10, per_network_day = 50
    Signatures per network fingerprint (the daily-rotating keyed hash of the client's
    address, network.client_fingerprint) per petition, over a sliding 10 minutes and a
    day. A family or a small office signs well under that; a script from one machine
    goes far over it. A real crowd behind one address (a Tor exit, the shared NAT of a
    diaspora community centre, a mobile carrier's CGNAT) does too: those people are not
    refused but asked for a few seconds of proof of work (integrity.pow), which lets one
    signature through each time.
per_domain_hour = 100, per_common_domain_hour = 0 (off), common_domains = [...]
    Signatures per e-mail domain per petition per sliding hour. An opponent with their
    own domain can make endless addresses on it; a real campaign's signers are spread
    over the big providers. So an uncommon domain gets a limit (a university's or an
    NGO's own domain still fits 100 an hour, and proof of work lets more through), and
    the big public providers (common_domains) none: at a viral peak of 500 signatures a
    second a third of them come from one provider, and any per-hour figure low enough
    to stop a flood would stop that crowd within a minute. Floods from big providers
    are caught per network, by the petition's flood brake, and by confirmation (an
    unconfirmed signature never counts). Not counting them also keeps the hottest
    counter row of all off the sign path.
per_petition_minute = 20000
    All signatures of one petition per sliding minute: a flood brake against a botnet,
    set far above any viral peak seen (a petition shared by a celebrity gets a few
    thousand a minute), so it never stops real signers. Proof of work does not lift it.
mails_per_address_hour = 5 (site-wide; a petition cannot change it)
    Confirmation mails to one address (by its keyed e-mail fingerprint) across all
    petitions per sliding hour, so nobody can use the sign form to mail-bomb a stranger.
    Over it no mail is queued, nothing is stored, and the signer is told plainly.
min_fill_seconds = 2
    Seconds between serving the form and its submission. People (and browser autofill,
    which is fast) take longer; a script posting at once does not. The page cache
    serves the same form for 5 s, which only makes the check more lenient.
honeypot = True
    Refuse a submission whose hidden "website" field is filled: people never see it,
    naive form-filling bots fill every field.
refuse_disposable = True
    Refuse throw-away addresses (the `disposable-email-domains` list plus local
    additions, integrity.disposable): a signature must reach a person who confirms it.
"""

import json
from functools import lru_cache
from typing import Any

from django.conf import settings

# The big public mail providers: millions of unrelated people share each, so many
# signatures from one of them are no sign of a single actor.
COMMON_DOMAINS = [
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "ymail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "live.com",
    "msn.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "t-online.de",
    "orange.fr",
    "free.fr",
    "btinternet.com",
    "comcast.net",
    "tutanota.com",
    "tuta.io",
]

DEFAULTS: dict[str, Any] = {
    "per_network_10min": 10,
    "per_network_day": 50,
    "per_domain_hour": 100,
    "per_common_domain_hour": 0,
    "common_domains": COMMON_DOMAINS,
    "per_petition_minute": 20000,
    "mails_per_address_hour": 5,
    "min_fill_seconds": 2,
    "honeypot": True,
    "refuse_disposable": True,
}

# Rules an organiser may change for one petition. The mail limit protects people who
# may never have heard of the petition, so only the operator can change it.
PER_PETITION = {
    "per_network_10min",
    "per_network_day",
    "per_domain_hour",
    "per_common_domain_hour",
    "per_petition_minute",
    "min_fill_seconds",
    "honeypot",
    "refuse_disposable",
}


def _valid(name: str, value: Any) -> bool:
    """An override of the right type; anything else is ignored (a typo in a petition's
    limits must not switch a rule off or raise on the sign path)."""
    default = DEFAULTS[name]
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return False


@lru_cache(maxsize=8)
def _parse(text: str) -> dict[str, Any]:
    """HAMSEDA_INTEGRITY_RULES as JSON; a typo stops the site rather than a rule."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        raise RuntimeError(f"HAMSEDA_INTEGRITY_RULES is not JSON: {text!r}") from None
    if not isinstance(value, dict):
        raise RuntimeError("HAMSEDA_INTEGRITY_RULES must be a JSON object.")
    return value


def site_rules() -> dict[str, Any]:
    """The defaults with the operator's overrides (a JSON string or, in tests, a dict)."""
    rules = dict(DEFAULTS)
    configured = settings.HAMSEDA.get("INTEGRITY_RULES") or {}
    if isinstance(configured, str):
        configured = _parse(configured)
    for name, value in configured.items():
        if name in DEFAULTS and _valid(name, value):
            rules[name] = value
    return rules


def rules_for(petition) -> dict[str, Any]:
    """The rules for one petition: defaults, then the site's, then the petition's."""
    rules = site_rules()
    overrides = getattr(petition, "limits", None) or {}
    if isinstance(overrides, dict):
        for name, value in overrides.items():
            if name in PER_PETITION and _valid(name, value):
                rules[name] = value
    return rules


def is_common_domain(domain: str, rules: dict[str, Any]) -> bool:
    return domain.lower() in {item.lower() for item in rules["common_domains"]}
