"""Keeping supporters out of the logs (PRIVACY.md rule 4, DESIGN.md "no personal data …
in logs or error reports").

Logs are copied, shipped and kept far longer and with less care than the database, so
a log line must never carry what a supporter typed, where they connected from, or a
link that acts on their behalf. Three things do that here:

- `PrivacyFilter`, on every handler of Django's logging (settings.LOGGING) and of
  gunicorn's error log: it drops the request that Django attaches to its records (a
  handler that serialises it, like Django's `AdminEmailHandler`, would write the POST
  data, cookies and REMOTE_ADDR), redacts the message, and replaces the exception
  with its traceback *without the exception's message*, which may quote input (for
  example `int("maryam@example.org")` raises "invalid literal … 'maryam@example.org'").
  Operators keep the file, line and exception type, which is what finding a bug needs.
- `redact()`: query strings, e-mail addresses, IP addresses other than loopback, and
  path segments that look like secret tokens (confirmation, unsubscribe, password
  reset links) are replaced by placeholders.
- `GunicornLogger`, gunicorn's `logger_class`: the access log can only ever show the
  time, method, redacted path, status, size and duration, whatever
  `access_log_format` says; the error log gets the `PrivacyFilter`.
"""

import ipaddress
import logging
import re
import traceback
from typing import Any

from gunicorn import glogging

QUERY_PLACEHOLDER = "?[query]"
EMAIL_PLACEHOLDER = "[e-mail]"
ADDRESS_PLACEHOLDER = "[address]"
TOKEN_PLACEHOLDER = "[token]"  # noqa: S105 - the placeholder for a token, not one.
WITHHELD = "(message withheld from the log: it may quote what a client sent)"

# A query string after a path ("/p/x/?email=…"), up to the next blank or quote.
_QUERY = re.compile(r"(?<=[^\s?'\"])\?[^\s'\"]+")
_EMAIL = re.compile(r"[^\s@'\"<>(),;:]+@[^\s@'\"<>(),;:]+\.[^\s@'\"<>(),;:]+")
# Candidates only; ipaddress decides, so "12:30:45" or "1.2.3" stay as they are.
_ADDRESS = re.compile(
    r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\.?\d)"  # IPv4, also before ":port"
    r"|(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})"
    r"(?![\w:])"  # IPv6, also with an IPv4 tail ("::ffff:192.0.2.1")
)
# A path segment: what lies between two slashes (or a slash and the end of the word).
_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_\-.=%]{16,}(?=/|\s|$|['\"?])")
# The segment after a word that says a secret link follows is always a token, however
# it looks: a random base64url token is "dense" (below) nearly always, not always.
_AFTER_LINK_WORD = re.compile(
    r"(?<=/)(?P<word>confirm|respond|withdraw|unsubscribe|erase)/[^/\s'\"?]+"
)


def _link_token(match: re.Match[str]) -> str:
    return f"{match.group('word')}/{TOKEN_PLACEHOLDER}"


def _looks_like_token(segment: str) -> bool:
    """Random tokens are dense in digits and capitals; slugs are words in lower case.

    A base64url token is about 56 % digits and capitals, a hex one about 62 %;
    "suspend-taliban-accounts-2024" is 14 %. A slug heavy in digits is redacted too,
    which costs a less telling log line and nothing else.
    """
    dense = sum(char.isdigit() or char.isupper() for char in segment)
    return dense / len(segment) >= 0.25


def _address(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    # Loopback and "any" name this machine, never a client; keeping them leaves
    # "Listening at: http://127.0.0.1:8000" readable.
    return text if address.is_loopback or address.is_unspecified else ADDRESS_PLACEHOLDER


def redact_path(path: str) -> str:
    """A URL path with its secret-looking segments replaced (and any query dropped)."""
    path = _AFTER_LINK_WORD.sub(_link_token, path.split("?", 1)[0])
    return _SEGMENT.sub(
        lambda match: TOKEN_PLACEHOLDER if _looks_like_token(match.group(0)) else match.group(0),
        path,
    )


def redact(text: str) -> str:
    """`text` without query strings, e-mail addresses, client addresses or tokens."""
    text = _QUERY.sub(QUERY_PLACEHOLDER, text)
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = _ADDRESS.sub(_address, text)
    text = _AFTER_LINK_WORD.sub(_link_token, text)
    return _SEGMENT.sub(
        lambda match: TOKEN_PLACEHOLDER if _looks_like_token(match.group(0)) else match.group(0),
        text,
    )


def traceback_without_messages(exception: BaseException) -> str:
    """The traceback as Python prints it, every exception's message withheld.

    Frames (file, line, function, source line) stay: they come from our code, not
    from the client. Chained exceptions ("During handling of …") are kept the same way.
    """
    lines: list[str] = []
    error: BaseException | None = exception
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if error.__cause__ is not None:
            link = "\nThe above exception was the direct cause of the following exception:\n\n"
            chain.append((error, link))
            error = error.__cause__
        elif error.__context__ is not None and not error.__suppress_context__:
            link = "\nDuring handling of the above exception, another exception occurred:\n\n"
            chain.append((error, link))
            error = error.__context__
        else:
            chain.append((error, ""))
            error = None
    # Oldest first, as Python prints it; each link sentence goes before the exception
    # it leads to.
    for error, link in reversed(chain):
        lines.append(link)
        if error.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_tb(error.__traceback__))
        kind = type(error)
        lines.append(f"{kind.__module__}.{kind.__qualname__}: {WITHHELD}\n")
    return "".join(lines).rstrip("\n")


class PrivacyFilter(logging.Filter):
    """Redacts a record in place, so that every later handler sees it redacted too."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django attaches the HttpRequest (POST data, cookies, REMOTE_ADDR) to
        # django.request and django.security records.
        record.__dict__.pop("request", None)
        message = record.getMessage()
        if message.startswith("Invalid request from ip="):
            # gunicorn's warning about a malformed request quotes the client's address
            # and the raw request line, whatever it held.
            message = f"Invalid request {WITHHELD}"
        record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = traceback_without_messages(record.exc_info[1])
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class GunicornLogger(glogging.Logger):
    """gunicorn's logger, held to the same rules as Django's logging."""

    # The only access-log atoms that say nothing about who asked for what.
    SAFE_ATOMS = ("t", "s", "m", "H", "b", "B", "T", "D", "M", "L", "p")

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # setup() replaces its handlers on every configuration reload, so the new ones
        # get a filter each time and none gets two.
        for handler in [*self.error_log.handlers, *self.access_log.handlers]:
            handler.addFilter(PrivacyFilter())

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        """Everything else (%(h)s the client address, %(q)s and %(r)s with the query
        string, %(f)s the referrer, %(a)s the user agent, request headers and environ
        variables) becomes "-", so no access_log_format can bring it back."""
        every = super().atoms(resp, req, environ, request_time)
        atoms = {name: every[name] for name in self.SAFE_ATOMS}
        atoms["U"] = redact_path(environ.get("PATH_INFO") or "-")
        return atoms
