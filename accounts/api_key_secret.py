"""Making, hashing and checking API key secrets.

A secret is ``oar_`` + 43 URL-safe characters (32 random bytes). We keep only
HMAC-SHA256(server secret, secret) — a keyed hash, so a leaked database alone cannot be used to
test guesses offline — and the first characters after ``oar_`` as a non-secret display prefix.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final

from django.conf import settings

SECRET_PREFIX = "oar_"
DISPLAY_PREFIX_LENGTH = 8
# What generate_secret makes: the prefix and exactly 43 URL-safe base64 characters.
SECRET_PATTERN: Final = re.compile(r"oar_[A-Za-z0-9_-]{43}")


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _hash_key() -> bytes:
    # A dedicated derivation, so the HMAC key is not Django's SECRET_KEY itself.
    return hashlib.sha256(b"oarlock-api-key-hash:" + settings.SECRET_KEY.encode()).digest()


def hash_api_key(secret: str) -> str:
    return hmac.new(_hash_key(), secret.encode(), hashlib.sha256).hexdigest()


def is_well_formed_secret(value: str) -> bool:
    """Whether ``value`` could be a key at all; anything else is refused before any lookup."""
    return SECRET_PATTERN.fullmatch(value) is not None


def display_prefix(secret: str) -> str:
    """The part of the key shown in lists and logs: ``oar_`` plus a few characters."""
    return secret[: len(SECRET_PREFIX) + DISPLAY_PREFIX_LENGTH]
