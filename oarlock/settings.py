"""Oarlock settings. The environment is read here and nowhere else (names in design.md)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from foundation.env import env_bool, env_float, env_header, env_int, env_list, env_str, env_url
from oarlock.database_url import database_from_url, sqlite_database
from oarlock.secret_key_file import private_directory, read_or_create_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
# var/ holds the database, the generated secret key and journals: readable by this user only.
VAR_DIR = private_directory(Path(env_str("OARLOCK_VAR_DIR") or BASE_DIR / "var"))
# OARLOCK_SECRET_KEY, else one generated into var/ on first run and kept.
SECRET_KEY = env_str("OARLOCK_SECRET_KEY") or read_or_create_secret_key(VAR_DIR / "secret_key")
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
    "drf_spectacular_sidecar",
    "channels",
    "axes",
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
    # Last, as axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
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
# Axes first: every authenticate() call (admin and portal sign-in) is counted and refused while
# locked out. It needs the request, so code calling authenticate() must pass it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
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

# --- deployment behind HTTPS (all off by default: `make serve` is plain HTTP on loopback) ------

# Session and CSRF cookies only over HTTPS.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("OARLOCK_SECURE_COOKIES", False)
# Origins (scheme://host[:port]) allowed to POST forms when they differ from the Host header,
# for instance the public URL in front of a proxy.
CSRF_TRUSTED_ORIGINS = env_list("OARLOCK_CSRF_TRUSTED_ORIGINS")
SECURE_HSTS_SECONDS = env_int("OARLOCK_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("OARLOCK_HSTS_INCLUDE_SUBDOMAINS", False)
# The header a TLS-terminating proxy sets, e.g. "X-Forwarded-Proto: https". Set it only when
# the proxy always overwrites that header: otherwise a client could claim HTTPS.
SECURE_PROXY_SSL_HEADER = env_header("OARLOCK_SECURE_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = env_bool("OARLOCK_SSL_REDIRECT", False)
# Load balancers probe /health over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^health$"]
# `manage.py check --deploy` runs in CI and fails on any warning; these are silenced on purpose:
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload puts the domain on a list built into browsers, hard to leave: an
    # organisation's decision about its whole domain, not a setting of one service.
    "security.W021",
]

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # No HTTP Basic anywhere: it would send a password on every call and let anyone guess
    # passwords at full speed, each guess costing a PBKDF2 run. Scripts use personal admin tokens.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Oarlock management API",
    "DESCRIPTION": "Tenants, API keys, limits and usage of an Oarlock gateway.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its pages are for signed-in staff (session or personal admin token) ...
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "SERVE_AUTHENTICATION": [
        "accounts.management_api.access.AdminTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # ... and Swagger UI and Redoc load from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
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
# /health reuses an upstream's probe result this long (it is public; probes must not follow hits).
OARLOCK_HEALTH_CACHE_SECONDS = env_float("OARLOCK_HEALTH_CACHE_SECONDS", 5.0)
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
# Longest life of a personal admin token (a token made with a token lives no longer than it).
OARLOCK_ADMIN_TOKEN_MAX_DAYS = env_int("OARLOCK_ADMIN_TOKEN_MAX_DAYS", 90)
# Redis unreachable: rate and concurrency limits admit anyway (logged) unless this is off;
# token budgets always fail closed (503).
OARLOCK_RATE_LIMIT_FAIL_OPEN = env_bool("OARLOCK_RATE_LIMIT_FAIL_OPEN", True)
# A request whose release never came (a killed worker) gives its budget reservation back after
# this; its request slot is leased for the shorter second one, renewed while the request runs
# (accounts/lease_renewal.py).
OARLOCK_ADMISSION_LEASE_SECONDS = env_int("OARLOCK_ADMISSION_LEASE_SECONDS", 900)
OARLOCK_SLOT_LEASE_SECONDS = env_int("OARLOCK_SLOT_LEASE_SECONDS", 60)

# --- sign-in throttling (django-axes; accounts/login_lockout.py) ---------------------------

AXES_HANDLER = "accounts.login_lockout.LoginLockoutHandler"
# Order matters to the handler: the username count, then the address count.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Failed sign-ins before a username is locked, and before a client address is.
AXES_FAILURE_LIMIT = env_int("OARLOCK_LOGIN_FAILURE_LIMIT", 5)
OARLOCK_LOGIN_IP_FAILURE_LIMIT = env_int("OARLOCK_LOGIN_IP_FAILURE_LIMIT", 20)
# A lockout ends by itself after this; staff can lift it earlier in the admin (Axes → Access attempts).
AXES_COOLOFF_TIME = timedelta(minutes=env_int("OARLOCK_LOGIN_LOCKOUT_MINUTES", 15))
# Attempts during a lockout do not extend it (else anyone could keep a person locked out forever).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.login_lockout.lockout_response"
AXES_CLIENT_STR_CALLABLE = "accounts.login_lockout.client_label"
# Reverse proxies in front of Oarlock that append to X-Forwarded-For: the client address is read
# from that header instead of the connection (else every client shares the proxy's address).
OARLOCK_TRUSTED_PROXY_COUNT = env_int("OARLOCK_TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "accounts.login_lockout.client_address"
AXES_VERBOSE = False

# --- usage -------------------------------------------------------------------------------

OARLOCK_USAGE_RETENTION_DAYS = env_int("OARLOCK_USAGE_RETENTION_DAYS", 90)
# fsync the usage journals (finished records, and requests in flight) once per batch: a machine
# crash then loses no more than a process crash does (docs/usage.md states the bounds).
OARLOCK_USAGE_JOURNAL_FSYNC = env_bool("OARLOCK_USAGE_JOURNAL_FSYNC", True)
# How often the tokens relayed so far are journalled for each open request: what a SIGKILL
# can lose of a request's tokens.
OARLOCK_USAGE_CHECKPOINT_SECONDS = env_float("OARLOCK_USAGE_CHECKPOINT_SECONDS", 1.0)
# Usage records the writer keeps in memory while the database is unreachable; more wait on disk.
OARLOCK_USAGE_MAX_PENDING = env_int("OARLOCK_USAGE_MAX_PENDING", 10_000)

# --- metrics ------------------------------------------------------------------------------

# /metrics answers only ``Authorization: Bearer <this>``; unset, the route is not served.
OARLOCK_METRICS_TOKEN = env_str("OARLOCK_METRICS_TOKEN")
# Set by the worker pool (oarlock/worker_pool.py): every worker's samples, summed by /metrics.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")

# --- logging -----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "oarlock.log_filters.RequestContextFilter"},
        # One record is one line: client text with a newline cannot forge a log line.
        "escaped_message": {"()": "oarlock.log_filters.EscapedMessageFilter"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {"()": "oarlock.json_log_formatter.JsonLogFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_context", "escaped_message"],
            # "json": one object per line with the request id (oarlock/json_log_formatter.py).
            "formatter": "json" if env_str("OARLOCK_LOG_FORMAT") == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("OARLOCK_LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # Axes logs every sign-in at INFO; failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}
