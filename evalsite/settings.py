"""Pingyi settings: one file; whatever differs between machines comes from the environment."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from pathlib import Path
from typing import overload
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Translate DATABASE_URL (sqlite:///path or postgres://user:pw@host:port/name)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        # sqlite:///relative.db gives "/relative.db"; sqlite:////abs/path.db an absolute path.
        if path.startswith("//"):
            path = path[1:]
        elif path.startswith("/"):
            path = str(BASE_DIR / path[1:])
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path or str(BASE_DIR / "db.sqlite3"),
            # A hall of representatives submits at once: wait for the write lock, do not fail.
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    if parsed.scheme in ("postgres", "postgresql", "pgsql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "TEST": {"NAME": env_str("TEST_DATABASE_NAME", None)},
            # Prepared statements: only the submission's two (ballots/sql.py), which ask for
            # it; Django's own queries are bound on the client and never prepared, and a
            # threshold nothing reaches keeps psycopg from preparing any other on its own
            # (Django's default, None, would refuse those two as well). Both find rows by
            # unique keys, so one generic plan serves every run: planning them anew was half
            # their time in the database. (Behind a transaction-mode pooler that cannot keep
            # prepared statements, set DB_PREPARED=0.)
            "OPTIONS": {
                "prepare_threshold": 1_000_000_000 if env_bool("DB_PREPARED", True) else None,
                "options": "-c plan_cache_mode=force_generic_plan",
            },
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parsed.scheme!r} is not supported")


DEBUG = env_bool("DEBUG", False)
# The test suite runs with DEBUG off (as production does) but needs no real secret.
TESTING = "pytest" in sys.modules
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG or TESTING else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tasks",
    "django_tasks_db",
    # Layers, lowest first: each app imports only the ones above it in this list
    # (tests/test_layers.py).
    "core",
    "registry",
    "campaigns",
    "ballots",
    "scoring",
    "assessments",
    "rectification",
    "workspace",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # CSP, Permissions-Policy, no-store for staff (core/middleware.py); the login-device
    # cookie (core/login.py).
    "core.middleware.SecurityHeadersMiddleware",
    "core.login.LoginDeviceMiddleware",
]

ROOT_URLCONF = "evalsite.urls"

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
                "core.middleware.csp",
            ],
        },
    },
]

WSGI_APPLICATION = "evalsite.wsgi.application"

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT: Path | None = env_path("STATIC_ROOT", BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if DEBUG or TESTING:
    # Serve straight from the app folders: no collectstatic needed to develop or test.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
    if not (BASE_DIR / "staticfiles").exists() and "STATIC_ROOT" not in os.environ:
        STATIC_ROOT = None
MEDIA_ROOT = env_path("MEDIA_ROOT", BASE_DIR / "media")
MEDIA_URL = "/media/"
# The key of anonymous ballots' tokens and receipts (ballots/online/codes.py): an HMAC of the
# code under it marks the ballot a code made. Without it a database administrator cannot link
# a ballot to its code. It must be the same on every server and must not change while a
# campaign is open (a changed key would let every code vote again). Defaults to SECRET_KEY.
# Breakdowns (by district, group, channel, source) never show a slice of fewer valid ballots
# than this: smaller ones are merged into 其他 (scoring/suppression.py). A campaign's own
# setting starts from it.
PINGYI_MIN_CELL_BALLOTS = env_int("PINGYI_MIN_CELL_BALLOTS", 10)
PINGYI_BALLOT_KEY = os.environ.get("PINGYI_BALLOT_KEY") or SECRET_KEY
# Spreadsheets between their preview and their confirmation (core/uploads.py): private, so
# outside MEDIA_ROOT (which a web server may serve), and served by no URL.
PINGYI_UPLOAD_ROOT = env_path("PINGYI_UPLOAD_ROOT", BASE_DIR / "private" / "uploads")
if PINGYI_UPLOAD_ROOT.resolve().is_relative_to(MEDIA_ROOT.resolve()):
    raise ImproperlyConfigured("PINGYI_UPLOAD_ROOT must not be inside MEDIA_ROOT")
# Files the application makes (reports, code slips, printed ballots, exports; core/files.py):
# private like the uploads, under random names, handed out only by the permission-checked job
# download (core/views.py), which logs every download.
PINGYI_PRIVATE_FILES_ROOT = env_path("PINGYI_PRIVATE_FILES_ROOT", BASE_DIR / "private" / "files")
if PINGYI_PRIVATE_FILES_ROOT.resolve().is_relative_to(MEDIA_ROOT.resolve()):
    raise ImproperlyConfigured("PINGYI_PRIVATE_FILES_ROOT must not be inside MEDIA_ROOT")
# A generated file is deleted this many days after it was made (`manage.py expire_files`, and
# whenever a job starts); code slips go sooner, when their campaign closes.
PINGYI_FILE_EXPIRY_DAYS = env_int("PINGYI_FILE_EXPIRY_DAYS", 7)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Django's backend behind the login throttle (core/login.py), whoever calls authenticate().
AUTHENTICATION_BACKENDS = ["core.login.ThrottledModelBackend"]
# A staff login lasts a working day, counted from the login (not renewed by activity).
PINGYI_STAFF_SESSION_HOURS = env_int("PINGYI_STAFF_SESSION_HOURS", 10)
if PINGYI_STAFF_SESSION_HOURS < 1:
    raise ImproperlyConfigured("PINGYI_STAFF_SESSION_HOURS must be at least 1")
SESSION_COOKIE_AGE = PINGYI_STAFF_SESSION_HOURS * 3600

# Login throttle (core/login.py): strict per client address, a capped delay per account,
# browsers that logged in before exempt.
PINGYI_LOGIN_FAILURES_PER_ADDRESS = env_int("PINGYI_LOGIN_FAILURES_PER_ADDRESS", 10)
PINGYI_LOGIN_ADDRESS_WINDOW_SECONDS = env_int("PINGYI_LOGIN_ADDRESS_WINDOW_SECONDS", 900)
PINGYI_LOGIN_FAILURES_PER_ACCOUNT = env_int("PINGYI_LOGIN_FAILURES_PER_ACCOUNT", 5)
PINGYI_LOGIN_MAX_DELAY_SECONDS = env_int("PINGYI_LOGIN_MAX_DELAY_SECONDS", 300)

# X-Forwarded-For is believed only from these addresses or networks (core/clients.py).
PINGYI_TRUSTED_PROXIES = env_list("PINGYI_TRUSTED_PROXIES", ["127.0.0.1", "::1"])


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


# Content-Security-Policy (core/middleware.py): nothing from other sites. script-src gets a
# per-request nonce for inline scripts marked nonce="{{ csp_nonce }}". The one inline event
# handler, the language menu's onchange in templates/base.html, is allowed by its hash alone.
# Inline styles are allowed: templates set widths in style attributes (progress bars, PDF
# columns) and the admin's change list has a <style> block; with img-src and font-src limited
# to the site, injected CSS cannot send anything elsewhere.
PINGYI_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'unsafe-hashes'", _csp_hash("this.form.submit()")],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
PINGYI_CSP_REPORT_ONLY = env_bool("PINGYI_CSP_REPORT_ONLY", False)
PINGYI_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Uploads: spreadsheets of 11,436 ballots x 66 units are about 3 MB; refuse anything absurd.
PINGYI_MAX_UPLOAD_BYTES = env_int("PINGYI_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
# Scanned ballots uploaded at once (PDF, TIFF, images or zips): 2,000 pages at 200 dpi are
# about 1 GB; bigger stacks go in several uploads or through `manage.py scan_import`.
PINGYI_MAX_SCAN_UPLOAD_BYTES = env_int("PINGYI_MAX_SCAN_UPLOAD_BYTES", 1024 * 1024 * 1024)
# An .xlsx is a zip: refuse files whose declared uncompressed size is a bomb.
PINGYI_MAX_UNCOMPRESSED_BYTES = env_int("PINGYI_MAX_UNCOMPRESSED_BYTES", 1024 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

# Code entry: a whole hall may share one NAT address, so the limit is generous.
PINGYI_CODE_ATTEMPTS_PER_WINDOW = env_int("PINGYI_CODE_ATTEMPTS_PER_WINDOW", 60)
PINGYI_CODE_WINDOW_SECONDS = env_int("PINGYI_CODE_WINDOW_SECONDS", 300)

TASKS = {
    "default": {
        # Tests run jobs inline (ImmediateBackend); servers queue them for `manage.py db_worker`.
        "BACKEND": env_str(
            "TASKS_BACKEND",
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.backend.DatabaseBackend",
        ),
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache"
        if env_bool("PINGYI_DB_CACHE", False)
        else "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pingyi_cache",
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
