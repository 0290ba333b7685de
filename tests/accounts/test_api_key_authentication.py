from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

from accounts import api_key_cache
from accounts.api_key_authentication import authenticate_secret, bearer_token
from accounts.api_key_lifecycle import revoke_api_key
from accounts.errors import ExpiredApiKey, InvalidApiKey, MissingApiKey, RevokedApiKey
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def close_thread_connections() -> AsyncIterator[None]:
    """The ORM runs in asgiref's worker thread here: close its connection so the test
    database can be flushed and dropped (PostgreSQL refuses while a session is open)."""
    yield
    await sync_to_async(connections.close_all)()


async def test_a_cached_key_costs_no_database_query(monkeypatch: pytest.MonkeyPatch) -> None:
    api_key, secret = await make_api_key_async()
    loads: list[str] = []
    load = api_key_cache._load_from_database

    async def counting_load(secret_hash: str) -> object:
        loads.append(secret_hash)
        return await load(secret_hash)

    monkeypatch.setattr(api_key_cache, "_load_from_database", counting_load)
    for _ in range(20):
        assert (await authenticate_secret(secret)).key_id == api_key.pk
    assert len(loads) == 1


async def test_revoking_drops_the_cached_key_at_once() -> None:
    api_key, secret = await make_api_key_async()
    await authenticate_secret(secret)
    await revoke_async(api_key)
    with pytest.raises(RevokedApiKey):
        await authenticate_secret(secret)


async def test_unknown_and_expired_keys_are_refused() -> None:
    with pytest.raises(InvalidApiKey):
        await authenticate_secret("oar_" + "A" * 43)
    _, secret = await make_api_key_async(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ExpiredApiKey):
        await authenticate_secret(secret)


def test_only_bearer_authorization_is_accepted() -> None:
    assert bearer_token("Bearer oar_abc") == "oar_abc"
    assert bearer_token("bearer  oar_abc ") == "oar_abc"
    for header in ("Basic abc", "Bearer", "Bearer   ", "oar_abc"):
        with pytest.raises(MissingApiKey):
            bearer_token(header)


async def make_api_key_async(**fields: object) -> tuple[object, str]:
    return await sync_to_async(make_api_key)(**fields)


async def revoke_async(api_key: object) -> None:
    await sync_to_async(revoke_api_key)(api_key=api_key)
