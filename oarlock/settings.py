"""Oarlock settings. The environment is read here and nowhere else (names in design.md)."""

from __future__ import annotations

import secrets
from pathlib import Path

from foundation.env import env_bool, env_float, env_int, env_list, env_str, env_url
from oarlock.database_url import database_from_url, sqlite_database

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OARLOCK_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """``OARLOCK_SECRET_KEY``, else one generated into ``var/`` on first run and kept."""
    configured = env_str("OARLOCK_SECRET_KEY")
    if configured:
        return configured
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("OARLOCK_DEBUG", False)
ALLOWED_HOSTS = env_list("OARLOCK_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "inference",
    "accounts",
    "usage",
    "compat_api",
    "portal",
    "monitor",
    "playground",
]

MIDDLEWARE = [
    "oarlock.request_id_middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin and portal CSS/JS) are served by the app: Daphne has no static server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "oarlock.urls"
ASGI_APPLICATION = "oarlock.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.navigation.navigation",
            ],
        },
    },
]

# --- storage and shared state -------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
DATABASES = {
    "default": (
        database_from_url(DATABASE_URL, base_dir=BASE_DIR)
        if DATABASE_URL
        else sqlite_database(VAR_DIR / "oarlock.sqlite3")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "oarlock",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- HTTP ---------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("OARLOCK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# ``collectstatic`` (run by make install/serve) copies and compresses assets here.
STATIC_ROOT = Path(env_str("OARLOCK_STATIC_ROOT") or VAR_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing one
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Also serve straight from the apps' static folders, so a checkout that never ran
# collectstatic (tests, a fresh clone) is still styled; collected files win when present.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 3600

# --- portal sign-in ------------------------------------------------------------------------

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
SESSION_COOKIE_HTTPONLY = True
# Single sign-on (OpenID Connect, authorization code flow) is on when an issuer is set.
OARLOCK_OIDC_ISSUER = env_url("OARLOCK_OIDC_ISSUER")
OARLOCK_OIDC_GROUPS_CLAIM = env_str("OARLOCK_OIDC_GROUPS_CLAIM", "groups")
# "idp-group=tenant:role,…" (role member or admin): parsed and checked by portal/oidc_group_map.py.
OARLOCK_OIDC_GROUP_MAP = env_str("OARLOCK_OIDC_GROUP_MAP")
# The button label on the sign-in page ("Sign in with …").
OARLOCK_OIDC_PROVIDER_NAME = env_str("OARLOCK_OIDC_PROVIDER_NAME", "single sign-on")
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
if OARLOCK_OIDC_ISSUER:
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("portal.oidc_backend.GroupMappedOIDCBackend")
    OIDC_RP_CLIENT_ID = env_str("OARLOCK_OIDC_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = env_str("OARLOCK_OIDC_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = env_str("OARLOCK_OIDC_SIGN_ALGO", "RS256")
    OIDC_RP_SCOPES = env_str("OARLOCK_OIDC_SCOPES", "openid email profile")
    # The provider's endpoints come from its discovery document (portal/oidc_discovery.py).
    OIDC_CREATE_USER = True
    OIDC_AUTHENTICATION_CALLBACK_URL = "portal:oidc_callback"
    LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"

# Request bodies on /v1/ are capped by the request's owner (compat_api/request_lifecycle.py;
# Django's handler is bypassed there). Nothing over Paddler's 2 MiB request limit can ever be sent
# upstream, and a data-URI image goes to Paddler as it came, so the cap is twice that: the
# headroom is for what shrinks on the way (a client's \uXXXX escapes and whitespace: 6 bytes for
# a character we send as 2-3; fields we do not forward). The exact rule on the translated body is
# OARLOCK_UPSTREAM_MAX_BODY_BYTES below. /admin and /api keep Django's own 2.5 MiB default.
OARLOCK_MAX_REQUEST_BYTES = env_int("OARLOCK_MAX_REQUEST_BYTES", 4 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Oarlock management API",
    "DESCRIPTION": "Tenants, API keys, limits and usage of an Oarlock gateway.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- upstream (Paddler) ------------------------------------------------------------------

PADDLER_INFERENCE_URL = env_url("PADDLER_INFERENCE_URL")
PADDLER_MANAGEMENT_URL = env_url("PADDLER_MANAGEMENT_URL")
OARLOCK_DEFAULT_MODEL = env_str("OARLOCK_DEFAULT_MODEL", "default")
# Other names the default upstream answers to (comma-separated).
OARLOCK_DEFAULT_MODEL_ALIASES = env_list("OARLOCK_DEFAULT_MODEL_ALIASES")
# Set by the supervisor behind ``make serve``: the default upstream is its local engine, which
# may be down for a few seconds while it restarts (503 with retry-after rather than 502).
OARLOCK_LOCAL_ENGINE = env_bool("OARLOCK_LOCAL_ENGINE", False)
# How often each process re-reads the upstream table (a change made in-process applies at once).
OARLOCK_UPSTREAM_REFRESH_SECONDS = env_float("OARLOCK_UPSTREAM_REFRESH_SECONDS", 5.0)
OARLOCK_UPSTREAM_CONNECT_TIMEOUT = env_float("OARLOCK_UPSTREAM_CONNECT_TIMEOUT", 5.0)
# Longest silence tolerated between two upstream lines; Paddler's own item timeout is 30 s,
# so this only fires when Paddler itself hangs.
OARLOCK_UPSTREAM_READ_TIMEOUT = env_float("OARLOCK_UPSTREAM_READ_TIMEOUT", 120.0)
# Paddler refuses JSON bodies over 2 MiB (actix default); we refuse them first, with a clear 413.
OARLOCK_UPSTREAM_MAX_BODY_BYTES = env_int("OARLOCK_UPSTREAM_MAX_BODY_BYTES", 2 * 1024 * 1024)

# --- the OpenAI surface ------------------------------------------------------------------

OARLOCK_DEFAULT_MAX_TOKENS = env_int("OARLOCK_DEFAULT_MAX_TOKENS", 2000)
# Chat completions put reasoning text in this non-standard field ("reasoning_content" is what
# most open clients read); empty turns it off for clients that validate strictly.
OARLOCK_CHAT_REASONING_FIELD = env_str("OARLOCK_CHAT_REASONING_FIELD", "reasoning_content")
OARLOCK_RESPONSES_RETENTION_DAYS = env_int("OARLOCK_RESPONSES_RETENTION_DAYS", 30)

# --- accounts ----------------------------------------------------------------------------

# A key lookup is cached this long; revocation also drops the cached entry at once.
OARLOCK_API_KEY_CACHE_SECONDS = env_int("OARLOCK_API_KEY_CACHE_SECONDS", 60)
# Redis unreachable: rate and concurrency limits admit anyway (logged) unless this is off;
# token budgets always fail closed (503).
OARLOCK_RATE_LIMIT_FAIL_OPEN = env_bool("OARLOCK_RATE_LIMIT_FAIL_OPEN", True)
# A request whose release never came (a killed worker) frees its slot and budget after this.
OARLOCK_ADMISSION_LEASE_SECONDS = env_int("OARLOCK_ADMISSION_LEASE_SECONDS", 900)

# --- usage -------------------------------------------------------------------------------

OARLOCK_USAGE_RETENTION_DAYS = env_int("OARLOCK_USAGE_RETENTION_DAYS", 90)

# --- logging -----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "oarlock.log_filters.RequestContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_context"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("OARLOCK_LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}
