"""DRF authentication for the OpenAI API: ``Authorization: Bearer oar_…``."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from accounts.api_key_cache import find_authenticated_key
from accounts.api_key_secret import hash_api_key, is_well_formed_secret
from accounts.authenticated_key import ApiKeyPrincipal, AuthenticatedKey
from accounts.errors import ExpiredApiKey, InvalidApiKey, MissingApiKey, RevokedApiKey
from accounts.session_bound_token import is_session_token, verify_session_token


async def authenticate_secret(secret: str) -> AuthenticatedKey:
    """The key behind ``secret``, or the reason it is refused. No database query when cached,
    and none (nor a cache write) for a value that is not shaped like a key: guessing costs nothing."""
    if not is_well_formed_secret(secret):
        raise InvalidApiKey()
    # The lookup is by the keyed hash: an exact match on it is the check.
    return await authenticate_secret_hash(hash_api_key(secret))


async def authenticate_secret_hash(secret_hash: str) -> AuthenticatedKey:
    key = await find_authenticated_key(secret_hash)
    if key is None:
        raise InvalidApiKey()
    now = timezone.now()
    if key.revoked_at is not None and key.revoked_at <= now:
        raise RevokedApiKey()
    if not key.tenant_active:
        raise RevokedApiKey("The tenant of this API key is disabled.")
    if not key.owner_has_access:
        raise RevokedApiKey("The owner of this API key no longer has access to its tenant.")
    if key.expires_at is not None and key.expires_at <= now:
        raise ExpiredApiKey()
    if key.valid_until is not None and key.valid_until <= now:
        raise ExpiredApiKey("This API key was rotated and its old secret is no longer valid.")
    return key


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingApiKey()
    return token.strip()


class ApiKeyAuthentication(BaseAuthentication):
    """Async (awaited directly by ``OpenAIApiView``, no thread hop)."""

    async def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, AuthenticatedKey]:  # type: ignore[override]  # awaited by RequestLifecycle, never called by DRF's sync loop
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        if not authorization:
            raise MissingApiKey()
        token = bearer_token(authorization)
        if is_session_token(token):
            # A page's short-lived token (the playground): valid only with its session cookie.
            session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
            key = await authenticate_secret_hash(await verify_session_token(token, session_key=session_key))
        else:
            key = await authenticate_secret(token)
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="oarlock"'
