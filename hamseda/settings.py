"""Django settings, read from HAMSEDA_* environment variables.

Every variable is optional for `hamseda demo`. Production-safe by default: the
development conveniences (DEBUG, a generated secret key on disk) need an
explicit switch or an explicit data directory. See README.md, "Configuration".
"""

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf.locale import LANG_INFO
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole number from the environment; a typo stops the start rather than being
    read as some other number (a retention of "3O5" days must not become 0)."""
    value = env_str(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise RuntimeError(f"{name} must be at least {minimum}.")
    return number


DATA_DIR = Path(env_str("HAMSEDA_DATA_DIR", "var")).resolve()
DEBUG = env_bool("HAMSEDA_DEBUG")
BASE_URL = env_str("HAMSEDA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env_list("HAMSEDA_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
TRUSTED_PROXIES = env_list("HAMSEDA_TRUSTED_PROXIES")
CSRF_TRUSTED_ORIGINS = [BASE_URL] if BASE_URL.startswith("https://") else []


def read_secret_key() -> str:
    """The server secret: from HAMSEDA_SECRET_KEY, else from DATA_DIR/secret_key.

    The file is created (mode 0600) on first use, so `hamseda demo` works out of the
    box; it lives outside the database on purpose, because the keyed e-mail
    fingerprints and the outbox encryption derive from it (PRIVACY.md rules 2, 3).
    """
    value = env_str("HAMSEDA_SECRET_KEY")
    if value:
        if len(value) < 32 or value.lower() in {"changeme", "secret", "change-me"}:
            raise RuntimeError("HAMSEDA_SECRET_KEY must be a random string of 32+ characters.")
        return value
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


SECRET_KEY = read_secret_key()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # django-ninja's templates and static files: the API's docs page (/api/v1/docs).
    "ninja",
    "hamseda.orgs",
    "hamseda.campaigns",
    "hamseda.petitions",
    "hamseda.vault",
    "hamseda.integrity",
    "hamseda.mail",
    "hamseda.kit",
    "hamseda.actions",
    "hamseda.newsroom",
    "hamseda.pulse",
    "hamseda.api",
]

MIDDLEWARE = [
    "hamseda.middleware.SecurityHeadersMiddleware",
    # Before LocaleMiddleware, to see /api/v1/ answers last (hamseda/api/http.py).
    "hamseda.api.http.ApiHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "hamseda.urls"
WSGI_APPLICATION = "hamseda.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hamseda.context.site",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------
# SQLite by default: WAL so readers never block the writer, IMMEDIATE transactions so
# a writer takes the lock up front (no "database is locked" on lock upgrade), and a
# busy timeout so concurrent signers wait their turn instead of failing.
DATABASE_URL = env_str("HAMSEDA_DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "hamseda.sqlite3",
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": DATA_DIR / "test.sqlite3"}
else:
    DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = env_str("HAMSEDA_REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks -----------------------------------------------------------------
# django-tasks with its database backend, on SQLite and PostgreSQL alike: scheduled jobs
# (purging expired pending signatures, …). Mail has its own durable queue, the outbox
# table (hamseda/mail/services.py).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- E-mail ---------------------------------------------------------------------------
EMAIL_URL = env_str("HAMSEDA_EMAIL_URL", (DATA_DIR / "mailbox").as_uri())
DEFAULT_FROM_EMAIL = env_str("HAMSEDA_FROM_EMAIL", "Hamseda <noreply@hamseda.invalid>")
EMAIL_TIMEOUT = 20
# Supporters' mail goes through the encrypted outbox (hamseda.mail); this backend is for
# organizer account mail sent by django-allauth.
EMAIL_BACKEND = "hamseda.mail.transport.UrlBackend"

# --- Auth -----------------------------------------------------------------------------
# Organizer logins go through django-allauth: e-mail + password, then a second factor
# (TOTP, recovery codes or a passkey) for everyone who has set one up. Owners and
# organizers must set one up before they can export or mail supporters (orgs.permissions).
# Nobody signs up: owners add members (orgs), operators use `hamseda createorganizer`.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "organize:dashboard"
LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "hamseda.orgs.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
# Guessing passwords or codes: allauth counts failures per client and per account in the
# cache. The "client" is a daily-rotating keyed fingerprint, never the IP address
# (orgs.adapters, PRIVACY.md rule 4).
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key"}
MFA_ADAPTER = "hamseda.orgs.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = "Hamseda"
# Passkeys need a secure origin; plain-HTTP installs other than localhost offer TOTP.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------------
LANG_INFO.setdefault("ps", {"bidi": True, "code": "ps", "name": "Pashto", "name_local": "پښتو"})
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fa", _("Dari")), ("ps", _("Pashto"))]
LANGUAGES_BIDI = ["fa", "ps", "ar", "he", "ur", "ckb"]
# Date formats Django lacks (Pashto): hamseda/formats/<language>/formats.py.
FORMAT_MODULE_PATH = ["hamseda.formats"]
# hamseda/locale: our own strings. hamseda/locale_allauth: the strings of the django-allauth
# pages we show (login, two-factor), in Dari (from allauth's Persian) and Pashto (ours);
# see docs/translations.md.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_allauth"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static and uploaded files --------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# The project-wide assets (stylesheet, fonts, scripts) live in hamseda/static, which is no
# app's static folder, so the finders (collectstatic, WhiteNoise, tests) need telling.
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Request limits and security ------------------------------------------------------
# A sign form is a few hundred bytes; anything near these limits is hostile.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
CSRF_FAILURE_VIEW = "hamseda.views.csrf_failure"
HTTPS = BASE_URL.startswith("https://")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin", not "no-referrer": no other site ever learns which page a reader came
# from (a confirmation link, a petition), but a same-origin form POST keeps its Origin
# and Referer. Under "no-referrer" browsers send "Origin: null" with every form
# (Fetch standard), Django's CSRF check rightly refuses it, and nobody could sign;
# tests/browser/test_referrer_policy.py shows it in Chromium. Our server logs no Referer.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The Content-Security-Policy and Permissions-Policy: hamseda/middleware.py.
SILENCED_SYSTEM_CHECKS: list[str] = []
if HTTPS:
    # Once a browser has seen the site over HTTPS it refuses plain HTTP for a year, so
    # a network in between (a regime's ISP) cannot strip TLS from a later visit.
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HAMSEDA_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HAMSEDA_HSTS_PRELOAD")
    if not SECURE_HSTS_INCLUDE_SUBDOMAINS:
        # security.W005: the operator turned it off on purpose, for a host whose
        # subdomains are served over plain HTTP by someone else.
        SILENCED_SYSTEM_CHECKS.append("security.W005")
    if not SECURE_HSTS_PRELOAD:
        # security.W021 asks for "preload": a request to browser makers to hard-code
        # HTTPS for the whole registrable domain, hard to undo for months. Only the
        # domain's owner can decide that (HAMSEDA_HSTS_PRELOAD=1); the header protects
        # every returning visitor without it.
        SILENCED_SYSTEM_CHECKS.append("security.W021")
    SECURE_SSL_REDIRECT = True
    # A load balancer or a local Prometheus asks over plain HTTP on the private side;
    # neither answer has anything secret (metrics needs loopback or an organizer's
    # session, whose cookie is never sent over HTTP).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
if TRUSTED_PROXIES:
    # Behind a TLS-terminating proxy Django sees plain HTTP; the proxy says
    # "X-Forwarded-Proto: https". The header is believed only from the trusted
    # proxies' addresses (SecurityHeadersMiddleware drops it from anyone else), and the
    # proxy must set it itself, overwriting what a client sent (docs/privacy.md).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging: never IP addresses, query strings or personal data (PRIVACY.md rule 4) ---
# Every handler goes through hamseda.privatelogs.PrivacyFilter: no request objects (POST
# data, cookies, addresses), no exception messages (they may quote input), no query
# strings, e-mail or client addresses, or tokens in paths. The server's access log is
# gunicorn's (hamseda.runtime, hamseda.privatelogs.GunicornLogger).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"private": {"()": "hamseda.privatelogs.PrivacyFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["private"]}
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Django's defaults give "django" a mail_admins handler whose report holds the
        # request's POST data and META; no handlers here, so records go to the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # django.request logs every 404 and 4xx as a warning; only errors matter here.
        "django.request": {"level": "ERROR"},
        # runserver's request log has the client address and the query string.
        "django.server": {"handlers": [], "level": "ERROR", "propagate": True},
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
        # WeasyPrint logs every step of every poster at INFO; Pillow's PNG reader chunk
        # names at DEBUG. Neither says anything an operator needs.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "PIL": {"level": "WARNING"},
    },
}

# --- Hamseda itself -------------------------------------------------------------------
HAMSEDA: dict[str, Any] = {
    # Days a pending signature's confirmation link stays valid.
    "CONFIRMATION_DAYS": 14,
    # Mail delivery: attempts before giving up, and the first retry delay in seconds
    # (doubled after each failure).
    "MAIL_MAX_ATTEMPTS": 12,
    "MAIL_RETRY_SECONDS": 30,
    # Retention (PRIVACY.md rule 8): the sealed personal data of a petition closed (or
    # won) longer than this many days is deleted, leaving only its counts.
    "RETENTION_DAYS": env_int("HAMSEDA_RETENTION_DAYS", 365, minimum=1),
    # The organisation's owners and organizers are warned by mail this many days before
    # the purge; the purge waits until the warning is that old (0: no warning).
    "RETENTION_WARNING_DAYS": env_int("HAMSEDA_RETENTION_WARNING_DAYS", 30),
    # Erasure by e-mail address: how long the mailed link works, and how often one
    # address can be sent such a link (so the form cannot mail-bomb anyone).
    "ERASURE_LINK_HOURS": env_int("HAMSEDA_ERASURE_LINK_HOURS", 48, minimum=1),
    "ERASURE_MAIL_MINUTES": env_int("HAMSEDA_ERASURE_MAIL_MINUTES", 10, minimum=1),
    # --- Integrity of signatures (hamseda/integrity, docs/integrity.md) -----------------
    # On by default; HAMSEDA_INTEGRITY=0 switches every check off (the benchmark compares).
    "INTEGRITY": env_bool("HAMSEDA_INTEGRITY", True),
    # Days a signature keeps its daily network fingerprint (trends, invalidation by
    # network) before it is blanked (PRIVACY.md rule 4).
    "NETWORK_FINGERPRINT_DAYS": env_int("HAMSEDA_NETWORK_FINGERPRINT_DAYS", 30, minimum=1),
    # Site-wide overrides of integrity.rules.DEFAULTS, as JSON, e.g.
    # HAMSEDA_INTEGRITY_RULES='{"per_network_10min": 20}'. A petition's own `limits` win.
    "INTEGRITY_RULES": env_str("HAMSEDA_INTEGRITY_RULES", "{}"),
    # Where the sliding-window counters live: Redis when configured, else the database.
    "INTEGRITY_LIMITS_BACKEND": "redis" if REDIS_URL else "database",
    "INTEGRITY_REDIS_URL": REDIS_URL,
    # Proof of work: leading zero bits of SHA-256 (17: a few seconds on a cheap phone;
    # each bit doubles it), and how long a challenge may be solved and used, in seconds.
    "INTEGRITY_POW_BITS": env_int("HAMSEDA_POW_BITS", 17, minimum=1),
    "INTEGRITY_POW_SECONDS": 600,
    # --- The API (hamseda/api, docs/api.md) ---------------------------------------------
    # Anonymous reads of /api/v1/ answered from a cache in front of Django for this many
    # seconds (0: never), per process ("local") or in Django's cache ("shared"), or "off".
    "API_CACHE": env_str("HAMSEDA_API_CACHE", "local"),
    "API_CACHE_SECONDS": env_int("HAMSEDA_API_CACHE_SECONDS", 5),
    # Webhooks (hamseda/api/webhook_delivery.py) to private, loopback and link-local
    # addresses and over plain HTTP: for tests and closed networks only. Off, a partner
    # cannot make the server reach into its own network (SSRF).
    "WEBHOOK_ALLOW_PRIVATE": env_bool("HAMSEDA_WEBHOOK_ALLOW_PRIVATE"),
    # Who may frame the embeddable sign form (api.widget): "*" (anyone, the default) or
    # space-separated origins, e.g. "https://partner.example https://b.example".
    "EMBED_FRAME_ANCESTORS": env_str("HAMSEDA_EMBED_FRAME_ANCESTORS", "*"),
    # --- Pulse (hamseda/pulse, docs/pulse-fetching.md) ----------------------------------
    # Allow http:// and loopback addresses as Mastodon instances and API bases: for local
    # trials and tests only.
    "PULSE_LOCAL_SOURCES": env_bool("HAMSEDA_PULSE_LOCAL_SOURCES"),
}
# A policy source list only: a ";" or "," would smuggle directives into the embed pages'
# Content-Security-Policy.
if any(mark in HAMSEDA["EMBED_FRAME_ANCESTORS"] for mark in ";,\r\n"):
    raise RuntimeError("HAMSEDA_EMBED_FRAME_ANCESTORS is a space-separated list of origins, or *.")
