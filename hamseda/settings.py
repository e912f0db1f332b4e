"""Django settings, read from HAMSEDA_* environment variables.

Every variable is optional for `hamseda demo`. Production-safe by default: the
development conveniences (DEBUG, a generated secret key on disk) need an
explicit switch or an explicit data directory. See README.md, "Configuration".
"""

import os
import secrets
from pathlib import Path

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
    "hamseda.orgs",
    "hamseda.campaigns",
    "hamseda.petitions",
    "hamseda.vault",
    "hamseda.mail",
    "hamseda.api",
]

MIDDLEWARE = [
    "hamseda.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

# --- Auth -----------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "organize:dashboard"
LOGOUT_REDIRECT_URL = "home"
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
LOCALE_PATHS = [BASE_DIR / "locale"]
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
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Logging: never IP addresses, query strings or personal data (PRIVACY.md rule 4) ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # django.request logs "Not Found: /path?query" with the request attached.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
    },
}

# --- Hamseda itself -------------------------------------------------------------------
HAMSEDA = {
    # Days a pending signature's confirmation link stays valid.
    "CONFIRMATION_DAYS": 14,
    # Mail delivery: attempts before giving up, and the first retry delay in seconds
    # (doubled after each failure).
    "MAIL_MAX_ATTEMPTS": 12,
    "MAIL_RETRY_SECONDS": 30,
}
