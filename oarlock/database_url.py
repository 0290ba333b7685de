"""``DATABASE_URL`` → Django ``DATABASES['default']``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def database_from_url(url: str, *, base_dir: Path) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        options = dict(parse_qsl(parts.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "postgres",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # Persistent connections: the API path runs the ORM in a thread pool, and
            # reconnecting per usage batch would cost more than the batch itself.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
            "TEST": {"NAME": f"test_{unquote(parts.path.lstrip('/')) or 'postgres'}"},
        }
    if parts.scheme == "sqlite":
        # sqlite:///relative/to/project or sqlite:////absolute/path (the usual convention).
        raw_path = unquote(parts.path)
        path = Path("/" + raw_path.lstrip("/")) if raw_path.startswith("//") else base_dir / raw_path.lstrip("/")
        return sqlite_database(path)
    raise ImproperlyConfigured(f"DATABASE_URL must start with postgres:// or sqlite://, not {parts.scheme or url!r}")


def sqlite_database(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets the API server read while the usage writer and the admin write; IMMEDIATE
            # makes write transactions take the lock up front instead of failing on upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        # The acceptance tests serve the test database from a separate Daphne process,
        # which cannot see an in-memory database.
        "TEST": {"NAME": str(path.with_name(f"test_{path.name}"))},
    }
