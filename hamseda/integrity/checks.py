"""The integrity checks of one sign attempt, in one function the sign view calls.

`check_signature_attempt()` runs after the form is valid and before
petitions.services.sign_petition:

1. honeypot: the hidden "website" field must be empty (400);
2. fill time: the signed "started" stamp, if the form carries one, must be genuine and
   at least `min_fill_seconds` old (400);
3. disposable e-mail domain (400);
4. proof of work, if the form carries a solution: a forged or wrong one is refused
   (400); a valid one (integrity.pow) lifts the network and domain limits for this one
   signature; an expired or replayed one counts as none;
5. limits (integrity.limits): per network fingerprint (10 min, day), per e-mail domain
   and per petition. Over the network or domain limit the answer is 429 with a new
   challenge; over the petition's flood brake 429 without (work does not lift it).
6. the confirmation-mail limit per address, counted in the same round trip as the
   limits above: the verdict says whether a mail may go (`mail_allowed`), and
   services.sign_petition acts on it where the mail is queued (refusing a new
   signature, or not re-mailing a repeated one). An attempt that sends no mail after
   all (a repeat within the resend interval) gives its count back (`refund_mail`).

Every refusal carries a message in the signer's language: nothing is dropped silently.
The rules are data (integrity.rules); docs/integrity.md explains them.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hamseda.integrity import disposable, limits, pow, rules
from hamseda.vault import crypto

HONEYPOT_FIELD = "website"
STARTED_FIELD = "started"
CHALLENGE_FIELD = "pow_challenge"
COUNTER_FIELD = "pow_counter"
STARTED_SALT = "hamseda.integrity.form-started"


def enabled() -> bool:
    """HAMSEDA_INTEGRITY=0 switches every check off (the benchmark's comparison run)."""
    return bool(settings.HAMSEDA.get("INTEGRITY", True))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    status: int = 200
    reason: str = "ok"
    message: str = ""
    retry_after: int = 0
    # A proof-of-work challenge for the browser, when work would let the signer in.
    challenge: str = ""
    # Whether a confirmation mail may be queued to this address (the mail limit, counted
    # by this check); None when the check did not count it (checks or the limit off),
    # so services.sign_petition counts it itself.
    mail_allowed: bool | None = None


ALLOWED = Verdict(allowed=True)


def form_started_stamp(now: datetime | None = None) -> str:
    """The signed time the form was served, for its hidden "started" field."""
    stamp = int((now or timezone.now()).timestamp())
    return signing.Signer(salt=STARTED_SALT).sign(str(stamp))


def form_started_at(value: str) -> int | None:
    """The time (Unix seconds) a form stamped by form_started_stamp() was served, or None
    if the stamp is missing or forged."""
    try:
        return int(signing.Signer(salt=STARTED_SALT).unsign(value))
    except (signing.BadSignature, ValueError):
        return None


def _refuse(reason: str, message: str, status: int = 400, **extra) -> Verdict:
    return Verdict(allowed=False, status=status, reason=reason, message=message, **extra)


def try_again_message(seconds: int) -> str:
    """ "Please try again in about N minutes/hours", for a refusal with Retry-After."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes >= 90:
        hours = math.ceil(minutes / 60)
        return ngettext(
            "Please try again in about %(n)d hour.", "Please try again in about %(n)d hours.", hours
        ) % {"n": hours}
    return ngettext(
        "Please try again in about %(n)d minute.",
        "Please try again in about %(n)d minutes.",
        minutes,
    ) % {"n": minutes}


def _form_checks(data: Mapping, domain: str, rule: dict, now: datetime) -> Verdict | None:
    if rule["honeypot"] and str(data.get(HONEYPOT_FIELD, "")).strip():
        return _refuse(
            "honeypot",
            _(
                "The field “Leave this field empty” was filled in, so we could not accept "
                "the signature. If you are a person, please empty it and sign again."
            ),
        )
    started = str(data.get(STARTED_FIELD, "") or "")
    # A form without the stamp (a partner's embedded form, an API client, a page cached
    # before this field existed) is not refused: the limits still apply to it.
    if started:
        served = form_started_at(started)
        if served is None:
            return _refuse(
                "bad_stamp",
                _("This form could not be checked. Please reload the page and sign again."),
            )
        if now.timestamp() - served < rule["min_fill_seconds"]:
            return _refuse(
                "too_fast",
                _(
                    "That was faster than a person can fill in the form. Please wait a "
                    "moment and press “Sign” again."
                ),
            )
    if rule["refuse_disposable"] and disposable.is_disposable(domain):
        return _refuse(
            "disposable",
            _(
                "Addresses from %(domain)s are throw-away addresses, and we cannot accept "
                "them: a signature counts only when a person confirms it later. Please use "
                "an address you keep."
            )
            % {"domain": domain},
        )
    return None


def limit_windows(
    petition, fingerprint: str, domain: str, rule: dict, email_fingerprint: str = ""
) -> list[limits.Window]:
    """The sliding windows one signature attempt counts in; the write API
    (api.signing) counts in the same ones, so both paths share the counters."""
    common = rules.is_common_domain(domain, rule)
    windows = [
        limits.Window(
            "network_10min", f"{petition.pk}:{fingerprint}", 600, rule["per_network_10min"]
        ),
        limits.Window(
            "network_day", f"{petition.pk}:{fingerprint}", 86400, rule["per_network_day"]
        ),
        limits.Window(
            "domain_hour",
            f"{petition.pk}:{domain}",
            3600,
            rule["per_common_domain_hour" if common else "per_domain_hour"],
        ),
        # With the database backend counted in process (limits.LocalCounters): every
        # attempt of a viral petition hits it.
        limits.Window(
            "petition_minute", str(petition.pk), 60, rule["per_petition_minute"], local=True
        ),
    ]
    # A limit of 0 switches that rule off.
    return [window for window in windows if window.limit > 0]


def check_signature_attempt(
    petition, data: Mapping, fingerprint: str, *, now: datetime | None = None
) -> Verdict:
    """Whether this sign attempt may go on to sign_petition; see the module docstring.

    `data` is the form's cleaned data merged with the raw POST (for the hidden fields);
    `fingerprint` the client's daily network fingerprint (network.client_fingerprint).
    """
    if not enabled():
        return ALLOWED
    now = now or timezone.now()
    rule = rules.rules_for(petition)
    domain = crypto.email_domain(str(data.get("email", "")))
    refused = _form_checks(data, domain, rule, now)
    if refused:
        return refused

    solved = False
    challenge = str(data.get(CHALLENGE_FIELD, "") or "")
    if challenge:
        outcome = pow.verify(
            challenge, str(data.get(COUNTER_FIELD, "") or ""), petition.pk, now=now
        )
        if outcome in {pow.Outcome.FORGED, pow.Outcome.WRONG}:
            return _refuse(
                "pow_invalid",
                _("The browser check did not work out. Please reload the page and sign again."),
            )
        solved = outcome == pow.Outcome.SOLVED

    email_fingerprint = crypto.email_fingerprint(str(data.get("email", "")))
    counts = limits.hit(
        limit_windows(petition, fingerprint, domain, rule, email_fingerprint), now=now
    )
    mail = [count for count in counts if count.window.rule == MAIL_RULE]
    mail_allowed = not mail[0].over if mail else None
    counts = [count for count in counts if count.window.rule != MAIL_RULE]
    over = [count for count in counts if count.over]
    brake = [count for count in over if count.window.rule == "petition_minute"]
    if brake:
        return _refuse(
            "petition_limit",
            _("So many people are signing right now that we must slow down.")
            + " "
            + try_again_message(brake[0].retry_after),
            status=429,
            retry_after=brake[0].retry_after,
        )
    if over and not solved:
        retry = max(count.retry_after for count in over)
        which = {count.window.rule for count in over}
        if which & {"network_10min", "network_day"}:
            why = _("Many signatures have come from your network in a short time.")
        else:
            why = _("Many signatures have come from your e-mail provider in a short time.")
        return _refuse(
            "network_limit" if which & {"network_10min", "network_day"} else "domain_limit",
            why + " " + try_again_message(retry),
            status=429,
            retry_after=retry,
            challenge=pow.issue(petition.pk, now=now),
        )
    return Verdict(allowed=True, mail_allowed=mail_allowed)


MAIL_RULE = "mail_hour"


def _mail_window(email_fingerprint: str, limit: int) -> limits.Window:
    return limits.Window(MAIL_RULE, email_fingerprint, 3600, limit)


def may_mail_address(email_fingerprint: str, *, now: datetime | None = None) -> bool:
    """Whether a confirmation mail may be queued to this address now: at most
    `mails_per_address_hour` across all petitions (so the form cannot mail-bomb
    anyone). Each call counts one. The sign view has this counted by
    check_signature_attempt (Verdict.mail_allowed); other callers use this."""
    if not enabled():
        return True
    limit = rules.site_rules()["mails_per_address_hour"]
    if limit <= 0:
        return True
    return not limits.hit([_mail_window(email_fingerprint, limit)], now=now)[0].over


def refund_mail(email_fingerprint: str, *, now: datetime | None = None) -> None:
    """Give back the mail-limit count of an attempt that sent no mail after all."""
    limit = rules.site_rules()["mails_per_address_hour"]
    if enabled() and limit > 0:
        limits.refund([_mail_window(email_fingerprint, limit)], now=now)


def mail_limit_message() -> str:
    return _(
        "We have already sent several e-mails to this address in the last hour, so we sent "
        "none now and did not record the signature. Please sign again in an hour, or "
        "check your inbox (and spam folder) for the mail we sent."
    )
