"""Short-lived API tokens bound to a browser session, for pages that call /v1 (the playground).

A page must not hold a long-lived secret. Instead the server signs, for one of the person's own
keys, a token that names the key's secret hash, expires after ``TOKEN_SECONDS`` and carries a
fingerprint of the session cookie it was issued to. ``/v1`` accepts it only together with that
same, still-live session cookie: the token alone (copied out of the page) or the cookie alone
(a cross-site request cannot set the Authorization header) gets nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Final

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.errors import ExpiredApiKey, InvalidApiKey

TOKEN_PREFIX: Final = "oarsess."
TOKEN_SECONDS: Final = 15 * 60
_SALT: Final = "oarlock.session-bound-token"


def issue_session_token(*, secret_hash: str, session_key: str) -> str:
    payload = {"h": secret_hash, "s": _fingerprint(session_key)}
    return TOKEN_PREFIX + signing.dumps(payload, salt=_SALT, compress=True)


def is_session_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


async def verify_session_token(token: str, *, session_key: str) -> str:
    """The secret hash the token stands for, if it is valid for this live session."""
    try:
        payload = signing.loads(token[len(TOKEN_PREFIX) :], salt=_SALT, max_age=TOKEN_SECONDS)
    except signing.SignatureExpired:
        raise ExpiredApiKey("This session token has expired: reload the page.") from None
    except signing.BadSignature:
        raise InvalidApiKey() from None
    if not session_key or not constant_time_compare(payload.get("s", ""), _fingerprint(session_key)):
        raise InvalidApiKey("This session token belongs to another browser session.")
    if not await _session_store().aexists(session_key):
        raise InvalidApiKey("The browser session of this token has ended: sign in again.")
    return str(payload.get("h", ""))


def _fingerprint(session_key: str) -> str:
    return salted_hmac(_SALT, session_key).hexdigest()[:32]


def _session_store() -> SessionBase:
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
    return store
