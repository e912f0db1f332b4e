"""django-ninja authentication with partner API keys (api.keys).

A key is accepted in either header:

- `Authorization: Bearer hsk_…` (RFC 6750), the API's own;
- `OSDI-API-Token: hsk_…`, the header OSDI clients send (api.osdi).

In this order, each refusal a JSON error (api.errors): no key or an unknown, revoked or
expired one → 401 with `WWW-Authenticate`; a key without the operation's scope → 403
naming the scope; a key over its rate limit → 429 with `Retry-After`. The key that
passed is `request.auth`.
"""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer

from hamseda.api import keys
from hamseda.api.errors import ApiError, unauthorized
from hamseda.api.models import ApiKey, Scope


def check_key(raw: str | None, scope: str | None) -> ApiKey | None:
    """The key behind `raw` if it may do `scope` now; None if no key was sent (then
    django-ninja tries the next header, and answers 401 after the last)."""
    if not raw:
        return None
    try:
        key = keys.authenticate(raw.strip())
    except keys.KeyRefused as refusal:
        raise unauthorized(refusal.message, code=refusal.code, invalid=True) from None
    try:
        keys.require_scope(key, scope)
    except keys.ScopeMissing:
        raise ApiError(
            403,
            "missing_scope",
            _(
                "This API key may not do this: it needs the scope “%(scope)s”. An owner of "
                "your organisation can make a key with it on the API keys page."
            )
            % {"scope": scope},
        ) from None
    try:
        keys.check_rate(key)
    except keys.RateLimited as limited:
        raise ApiError(
            429,
            "rate_limited",
            _(
                "This API key has sent more than %(rate)d requests in a minute. Please wait "
                "%(seconds)d seconds and send the request again."
            )
            % {"rate": key.rate_per_minute, "seconds": limited.retry_after},
            headers={"Retry-After": str(limited.retry_after)},
        ) from None
    return key


class BearerKey(HttpBearer):
    """`Authorization: Bearer hsk_…`, for operations that need `scope` (None: any key)."""

    def __init__(self, scope: str | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return check_key(token, self.scope)


class OsdiApiToken(APIKeyHeader):
    """`OSDI-API-Token: hsk_…`, the header of the OSDI specification."""

    param_name = "OSDI-API-Token"

    def __init__(self, scope: str | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        return check_key(key, self.scope)


def key_auth(scope: Scope | str | None) -> list:
    """The `auth=` of an operation that needs `scope`: either header."""
    value = str(scope) if scope is not None else None
    return [BearerKey(value), OsdiApiToken(value)]
