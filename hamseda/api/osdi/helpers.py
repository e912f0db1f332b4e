"""The body of OSDI's record signature and record attendance helpers, turned into the
fields of the write API (api.signing), which validates, checks and seals them exactly as
the sign form does.

OSDI clients send many fields we have no use for (identifiers, origin_system,
referrer_data, phone numbers, add_tags, triggers, …): they are ignored, not refused,
since the specification lets a server take the fields it supports. The ones we read
must have the right type; a wrong one is a 422 naming the field.
"""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from hamseda.api.errors import ApiError


class _Fields:
    """Collects each wrong field's messages, for one 422 listing them all."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def wrong(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def text(self, data: Mapping, key: str, name: str) -> str:
        value = data.get(key, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            self.wrong(name, _("This must be text (a JSON string)."))
            return ""
        return value

    def flag(self, data: Mapping, key: str, name: str, default: bool = False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.wrong(name, _("This must be true or false."))
            return False
        return value

    def object(self, data: Mapping, key: str, name: str) -> Mapping:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.wrong(name, _("This must be a JSON object."))
            return {}
        return value

    def primary(self, data: Mapping, key: str, name: str) -> tuple[Mapping, str]:
        """The entry marked `primary` of a list of objects, else the first; and its
        name for messages, e.g. "person.email_addresses[0]"."""
        value = data.get(key)
        if value is None:
            return {}, f"{name}[0]"
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            self.wrong(name, _("This must be a list of JSON objects."))
            return {}, f"{name}[0]"
        if not value:
            return {}, f"{name}[0]"
        index = next((i for i, item in enumerate(value) if item.get("primary") is True), 0)
        return value[index], f"{name}[{index}]"

    def done(self) -> None:
        if self.errors:
            raise ApiError(
                422,
                "invalid_fields",
                _("Some fields are missing or not valid: see “fields”."),
                fields=self.errors,
            )


def _person(fields: _Fields, data: Mapping[str, Any]) -> dict:
    person = fields.object(data, "person", "person")
    if "person" not in data:
        fields.wrong("person", _("This field is required."))
    email, email_name = fields.primary(person, "email_addresses", "person.email_addresses")
    postal, postal_name = fields.primary(person, "postal_addresses", "person.postal_addresses")
    address = fields.text(email, "address", f"{email_name}.address")
    if (
        isinstance(data.get("person"), Mapping)
        and not address
        and not any(name.startswith("person.email") for name in fields.errors)
    ):
        fields.wrong(
            "person.email_addresses",
            _("An e-mail address is required: the confirmation link is sent to it."),
        )
    return {
        "first_name": fields.text(person, "given_name", "person.given_name"),
        "last_name": fields.text(person, "family_name", "person.family_name"),
        "email": address,
        "country": fields.text(postal, "country", f"{postal_name}.country").upper(),
        "postcode": fields.text(postal, "postal_code", f"{postal_name}.postal_code"),
    }


def signature_fields(data: Mapping[str, Any]) -> dict:
    """The write API's sign fields from a record signature helper body."""
    fields = _Fields()
    values = _person(fields, data)
    values["reason"] = fields.text(data, "comments", "comments")
    # Hamseda's own consents (not in OSDI, named as in the JSON API): off unless the
    # partner's form asked the signer.
    for name in ("show_name", "keep_updated", "partner_consent"):
        values[name] = fields.flag(data, name, name)
    fields.done()
    return values


def attendance_fields(data: Mapping[str, Any]) -> dict:
    """The write API's RSVP fields from a record attendance helper body. Only an
    acceptance can be recorded: Hamseda keeps no list of who declined."""
    fields = _Fields()
    values = _person(fields, data)
    del values["postcode"], values["country"]  # An RSVP asks neither.
    status = data.get("status", "accepted")
    if status != "accepted":
        fields.wrong("status", _("Only “accepted” can be recorded."))
    # As in the JSON API and the RSVP form: on unless declined (reminders carry the
    # event's safety notes).
    values["wants_notices"] = fields.flag(data, "wants_notices", "wants_notices", default=True)
    fields.done()
    return values


# Where each field of the write API comes from in an OSDI body, to name it in errors.
OSDI_NAMES = {
    "first_name": "person.given_name",
    "last_name": "person.family_name",
    "email": "person.email_addresses.address",
    "country": "person.postal_addresses.country",
    "postcode": "person.postal_addresses.postal_code",
    "reason": "comments",
}


def language_of(data: Mapping[str, Any]) -> str | None:
    """The signer's language: the JSON API's `language` field if sent (checked by the
    write API), else the first of OSDI's `person.languages_spoken` that this site
    speaks, else None (the petition's or event's own language)."""
    if "language" in data:
        return data["language"] if isinstance(data["language"], str) else ""
    person = data.get("person")
    spoken = person.get("languages_spoken") if isinstance(person, Mapping) else None
    if isinstance(spoken, list):
        for code in spoken:
            if isinstance(code, str) and code.lower() in {"en", "fa", "ps"}:
                return code.lower()
    return None


def osdi_error(error: ApiError) -> ApiError:
    """An error of the write API with its fields named as in the OSDI body."""
    if not error.fields:
        return error
    fields = {OSDI_NAMES.get(name, name): texts for name, texts in error.fields.items()}
    return ApiError(error.status, error.code, error.message, fields=fields, headers=error.headers)
