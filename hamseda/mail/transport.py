"""Turn HAMSEDA_EMAIL_URL into a Django e-mail backend.

- `smtp://[user:password@]host:port` — plain SMTP, upgraded with STARTTLS when the
  query has `?starttls=1`;
- `smtps://[user:password@]host:port` — SMTP over TLS;
- `file:///path` — each message written as a file into that folder (the demo's mailbox).
"""

from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend


class BadEmailUrl(ValueError):
    pass


def connection_from_url(url: str | None = None) -> BaseEmailBackend:
    url = url or settings.EMAIL_URL
    parts = urlsplit(url)
    if parts.scheme == "file":
        return get_connection(
            "django.core.mail.backends.filebased.EmailBackend",
            file_path=unquote(parts.path),
        )
    if parts.scheme in {"smtp", "smtps"}:
        query = parse_qs(parts.query)
        return get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            host=parts.hostname or "localhost",
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            use_ssl=parts.scheme == "smtps",
            use_tls=query.get("starttls", ["0"])[0] in {"1", "true"},
            timeout=settings.EMAIL_TIMEOUT,
            fail_silently=False,
        )
    if parts.scheme == "locmem":  # Tests only: django.core.mail.outbox.
        return get_connection("django.core.mail.backends.locmem.EmailBackend")
    raise BadEmailUrl(f"HAMSEDA_EMAIL_URL scheme {parts.scheme!r} is not supported.")


class UrlBackend(BaseEmailBackend):
    """Django's EMAIL_BACKEND for mail sent at once rather than through the outbox:
    organizer account mail from django-allauth (password reset, 2FA notices). It
    sends through whatever HAMSEDA_EMAIL_URL names."""

    def send_messages(self, email_messages):
        return connection_from_url().send_messages(email_messages)
