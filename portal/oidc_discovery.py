"""The OpenID provider's endpoints, read once from its discovery document.

Only the issuer is configured (``OARLOCK_OIDC_ISSUER``); the authorization, token, userinfo and
key-set endpoints come from ``<issuer>/.well-known/openid-configuration`` at the first sign-in,
so a provider that moves an endpoint needs no configuration change (a restart re-reads it).
"""

from __future__ import annotations

import threading
from typing import Final

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# mozilla-django-oidc setting name → discovery document field.
ENDPOINT_SETTINGS: Final = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}

_lock = threading.Lock()
_documents: dict[str, dict[str, str]] = {}


def discovered_endpoint(setting_name: str) -> str:
    issuer = settings.OARLOCK_OIDC_ISSUER
    with _lock:
        document = _documents.get(issuer)
        if document is None:
            document = _documents[issuer] = _fetch(issuer)
    field = ENDPOINT_SETTINGS[setting_name]
    if not document.get(field):
        raise ImproperlyConfigured(f"The OpenID provider's discovery document has no {field}.")
    return document[field]


def _fetch(issuer: str) -> dict[str, str]:
    url = issuer + "/.well-known/openid-configuration"
    response = httpx.get(url, timeout=10.0)
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, dict):
        raise ImproperlyConfigured(f"{url} is not an OpenID discovery document.")
    return {key: value for key, value in document.items() if isinstance(value, str)}
