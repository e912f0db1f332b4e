"""Security headers on real answers, the production settings and `check --deploy`, and
what error pages and logs may say (PRIVACY.md rule 4; DESIGN.md "no personal data … in
logs or error reports")."""

import io
import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import Client

from hamseda import privatelogs
from hamseda.middleware import CSP
from hamseda.petitions import services

PRODUCTION = {
    "HAMSEDA_BASE_URL": "https://petitions.example.org",
    "HAMSEDA_ALLOWED_HOSTS": "petitions.example.org",
    "DJANGO_SETTINGS_MODULE": "hamseda.settings",
}
# What a signer typed, to be looked for where it must not be.
TYPED = {
    "first_name": "Logmarker-Zarmina",
    "last_name": "لاگ‌مارکر",
    "email": "logmarker-5120@example.org",
    "country": "AF",
    "postcode": "LM-5120",
    "reason": "logmarker-reason-7731",
}
CLIENT_ADDRESS = "198.51.100.23"


def production_environment(tmp_path, **extra: str) -> dict[str, str]:
    """The environment of a production install: HTTPS, a real secret, DEBUG off."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HAMSEDA_") or key == "HAMSEDA_DATABASE_URL"
    }
    env.update(PRODUCTION)
    env["HAMSEDA_DATA_DIR"] = str(tmp_path / "var")
    env["HAMSEDA_SECRET_KEY"] = secrets.token_urlsafe(48)
    env.update(extra)
    return env


def settings_of(environment: dict[str, str], *names: str) -> dict:
    """Settings as Django sees them with `environment` (hamseda.settings over Django's
    defaults), in a new process."""
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def deploy_check(environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hamseda", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- production settings ------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [{}, {"HAMSEDA_TRUSTED_PROXIES": "127.0.0.1"}, {"HAMSEDA_HSTS_INCLUDE_SUBDOMAINS": "0"}],
)
def test_the_deploy_check_is_clean_in_production(tmp_path, extra):
    done = deploy_check(production_environment(tmp_path, **extra))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNINGS" not in done.stdout + done.stderr


def test_the_deploy_check_would_see_a_warning(tmp_path):
    """The clean result above means something: with DEBUG on, the same check fails."""
    done = deploy_check(production_environment(tmp_path, HAMSEDA_DEBUG="1"))
    assert done.returncode != 0
    assert "security.W018" in done.stdout + done.stderr


def test_https_brings_hsts_and_the_redirect(tmp_path):
    values = settings_of(
        production_environment(tmp_path),
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SECURE_REDIRECT_EXEMPT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_REFERRER_POLICY",
    )
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False  # The domain owner's decision.
    assert values["SECURE_SSL_REDIRECT"] is True
    assert "^healthz$" in values["SECURE_REDIRECT_EXEMPT"]
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    # Without trusted proxies nobody's X-Forwarded-Proto is believed.
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"


def test_subdomains_and_preload_are_the_operators_choice(tmp_path):
    environment = production_environment(
        tmp_path, HAMSEDA_HSTS_INCLUDE_SUBDOMAINS="0", HAMSEDA_HSTS_PRELOAD="1"
    )
    values = settings_of(environment, "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD")
    assert values == {"SECURE_HSTS_INCLUDE_SUBDOMAINS": False, "SECURE_HSTS_PRELOAD": True}


def test_plain_http_has_no_hsts_and_no_redirect(tmp_path):
    environment = production_environment(tmp_path, HAMSEDA_BASE_URL="http://127.0.0.1:8000")
    values = settings_of(
        environment, "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE"
    )
    assert values == {
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
    }


def test_a_trusted_proxy_may_say_https(tmp_path):
    environment = production_environment(tmp_path, HAMSEDA_TRUSTED_PROXIES="10.0.0.5")
    values = settings_of(environment, "SECURE_PROXY_SSL_HEADER")
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


# --- headers on real answers ----------------------------------------------------------------


def assert_security_headers(response) -> None:
    policy = response["Content-Security-Policy"]
    assert policy == CSP
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.fixture
def failing_sign(monkeypatch):
    """Signing raises, as a bug would, with what was typed in the exception's message."""

    def broken(petition, signer, **kwargs):
        raise ValueError(f"cannot sign for {signer.email} ({signer.first_name})")

    monkeypatch.setattr(services, "sign_petition", broken)


def test_every_kind_of_answer_carries_the_headers(client, petition, owner, failing_sign):
    answers = {
        "petition page": client.get(f"/p/{petition.slug}/"),
        "privacy page": client.get("/fa/privacy/"),
        "API": client.get("/api/v1/petitions"),
        "static file": client.get("/static/hamseda/hamseda.css"),
        "health check": client.get("/healthz"),
        "not found": client.get("/no-such-page/"),
        "refused form": Client(enforce_csrf_checks=True).post(f"/p/{petition.slug}/sign", TYPED),
        "server error": Client(raise_request_exception=False).post(
            f"/p/{petition.slug}/sign", TYPED
        ),
    }
    client.force_login(owner)
    answers["organizer page"] = client.get("/organize/")
    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses == {
        "petition page": 200,
        "privacy page": 200,
        "API": 200,
        "static file": 200,
        "health check": 200,
        "not found": 404,
        "refused form": 403,
        "server error": 500,
        "organizer page": 200,
    }
    for name, response in answers.items():
        try:
            assert_security_headers(response)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error
    # Pages cannot be framed (CSP frame-ancestors, and X-Frame-Options for old browsers).
    assert answers["petition page"]["X-Frame-Options"] == "DENY"
    # The API stays readable from any origin.
    assert answers["API"]["Access-Control-Allow-Origin"] == "*"


@pytest.fixture
def https_install(settings):
    """Production's HTTPS settings, before the test client builds its middleware."""
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    return settings


def test_https_answers_carry_hsts(client, petition, https_install):
    response = client.get(f"/p/{petition.slug}/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert_security_headers(response)


def test_plain_http_is_sent_to_https_but_the_health_check_answers(client, petition, https_install):
    response = client.get(f"/p/{petition.slug}/")
    assert response.status_code == 301
    assert response["Location"] == f"https://testserver/p/{petition.slug}/"
    assert client.get("/healthz").status_code == 200  # A load balancer on plain HTTP.


def test_only_a_trusted_proxy_can_claim_https(client, petition, https_install):
    https_install.TRUSTED_PROXIES = ["127.0.0.1"]
    https_install.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    path = f"/p/{petition.slug}/"
    via_proxy = client.get(path, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    assert via_proxy.status_code == 200
    assert "Strict-Transport-Security" in via_proxy
    forged = client.get(path, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https")
    assert forged.status_code == 301


# --- what error pages and logs say ------------------------------------------------------------


@contextmanager
def captured_console() -> Iterator[io.StringIO]:
    """What the configured "console" handler (settings.LOGGING) writes, as a string:
    the real handler with its real filter, only its stream swapped."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def assert_nothing_typed_in(text: str, where: str) -> None:
    for field, value in TYPED.items():
        if field != "country":
            assert value not in text, f"{field} ({value!r}) in {where}"
    assert "logmarker-5120" not in text
    assert CLIENT_ADDRESS not in text, f"the client's address in {where}"


def test_error_pages_and_error_logs_hold_nothing_submitted(petition, failing_sign, caplog):
    caplog.set_level(logging.INFO)
    sign = f"/p/{petition.slug}/sign?ref={TYPED['email']}"
    extra = {"REMOTE_ADDR": CLIENT_ADDRESS, "HTTP_X_FORWARDED_FOR": CLIENT_ADDRESS}
    with captured_console() as console:
        answers = {
            "server error": Client(raise_request_exception=False).post(sign, TYPED, **extra),
            "refused form": Client(enforce_csrf_checks=True).post(sign, TYPED, **extra),
            "unknown petition": Client().post(f"/p/nothing/sign?e={TYPED['email']}", TYPED),
            "too many fields": Client().post(
                sign, {**TYPED, **{f"f{n}": TYPED["email"] for n in range(300)}}, **extra
            ),
        }
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "server error": 500,
        "refused form": 403,
        "unknown petition": 404,
        "too many fields": 400,
    }
    for name, answer in answers.items():
        assert_nothing_typed_in(answer.content.decode(), f"the {name} page")

    logged = console.getvalue()
    # The error was logged, with where it happened and what kind it was ...
    assert f"Internal Server Error: /p/{petition.slug}/sign" in logged
    assert "Traceback (most recent call last)" in logged
    assert "in broken" in logged
    assert "builtins.ValueError: (message withheld" in logged
    # ... and nothing of what was sent, from where, or the query string.
    assert_nothing_typed_in(logged, "the log")
    assert "?ref=" not in logged
    assert_nothing_typed_in("\n".join(r.getMessage() for r in caplog.records), "caplog")
    # The request, with its POST data and META, is no longer attached for any handler.
    assert not any(hasattr(record, "request") for record in caplog.records)


@pytest.mark.parametrize(
    ("logged", "kept"),
    [
        ("Server Error: /p/x/sign?email=a@b.org", "Server Error: /p/x/sign?[query]"),
        ("mail to maryam@example.org failed", "mail to [e-mail] failed"),
        ("Invalid request from ip=203.0.113.5: bad", "Invalid request (message withheld"),
        ("peer 2001:db8::1 and [2a00:1450::5]:443", "peer [address] and [[address]]:443"),
        ("from 8.8.8.8:5123, v1.2.3", "from [address]:5123, v1.2.3"),
        ("Listening at: http://127.0.0.1:8000, ::1", "Listening at: http://127.0.0.1:8000, ::1"),
        ("at 12:30:45 the count was 10.5", "at 12:30:45 the count was 10.5"),
        ("GET /p/suspend-taliban-accounts/ 200", "GET /p/suspend-taliban-accounts/ 200"),
        (
            "GET /p/x/confirm/Xq3_9TkLp0aZ7wVbN2cR8dFs1hJy4mUe",
            "GET /p/x/confirm/[token]",
        ),
        (
            "GET /accounts/password/reset/key/1-cbz5k9-8e3f0a1b2c3d4e5f60718293a4b5c6d7/",
            "GET /accounts/password/reset/key/[token]/",
        ),
        # After a word that announces a secret link, the segment goes however it looks
        # (a random token in lower-case letters is not "dense", yet still a token).
        ("GET /fa/p/x/respond/abcdefghijklmnopqrstuvwxyz 410", "GET /fa/p/x/respond/[token] 410"),
        ("POST /unsubscribe/short.sig 200", "POST /unsubscribe/[token] 200"),
        ("GET /p/x/withdraw/lowercase-only-token-here", "GET /p/x/withdraw/[token]"),
        ("GET /privacy/erase/ 200", "GET /privacy/erase/ 200"),
    ],
)
def test_log_lines_are_redacted(logged, kept):
    record = logging.LogRecord("test", logging.ERROR, __file__, 1, logged, (), None)
    privatelogs.PrivacyFilter().filter(record)
    assert record.getMessage().startswith(kept)


def test_an_exception_is_logged_without_its_message():
    typed = "maryam@example.org"
    try:
        try:
            int(typed)
        except ValueError as error:
            raise RuntimeError(f"while reading {typed}") from error
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    privatelogs.PrivacyFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "maryam" not in text
    # As Python prints it: the cause, the sentence that links them, the consequence.
    cause = text.index("builtins.ValueError: (message withheld")
    link = text.index("direct cause of the following exception")
    assert cause < link < text.index("builtins.RuntimeError: (message withheld")
    assert "int(typed)" in text  # The frames stay: they are our code, not input.
