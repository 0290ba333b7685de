"""A cached key is dropped when the change that stops it commits; a malformed key is never looked up."""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from accounts import api_key_cache
from accounts.api_key_authentication import authenticate_secret
from accounts.api_key_secret import hash_api_key
from accounts.errors import InvalidApiKey, RevokedApiKey
from accounts.tenant_changes import update_tenant
from tests.factories import make_api_key


@pytest.fixture(autouse=True)
def empty_caches() -> None:
    cache.clear()
    api_key_cache._local.clear()


@pytest.mark.django_db(transaction=True)
def test_disabling_a_tenant_drops_its_cached_keys_when_the_transaction_commits() -> None:
    api_key, secret = make_api_key()
    stale = api_key_cache.snapshot_of(api_key)  # the tenant still active
    cache_key = api_key_cache._cache_key(hash_api_key(secret))
    with transaction.atomic():
        update_tenant(tenant=api_key.tenant, changes={"is_active": False})
        # A request on another worker, served before the commit, reads the old row and caches it.
        cache.set(cache_key, stale, 60)
    api_key_cache._local.clear()
    assert cache.get(cache_key) is None
    with pytest.raises(RevokedApiKey, match="tenant"):
        async_to_sync(authenticate_secret)(secret)


@pytest.mark.parametrize(
    "secret",
    ["oar_short", "oar_" + "A" * 44, "oar_" + "!" * 43, "sk-" + "A" * 43, "oar_" + "A" * 42 + "\n", "oar_" + "é" * 43],
)
def test_a_malformed_key_is_refused_without_a_lookup_or_cache_write(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []

    async def load(secret_hash: str) -> None:
        loads.append(secret_hash)

    monkeypatch.setattr(api_key_cache, "_load_from_database", load)
    with pytest.raises(InvalidApiKey):
        async_to_sync(authenticate_secret)(secret)
    assert loads == []
    assert cache.get(api_key_cache._cache_key(hash_api_key(secret))) is None
    assert hash_api_key(secret) not in api_key_cache._local


@pytest.mark.django_db
def test_a_well_formed_unknown_key_is_still_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []

    async def load(secret_hash: str) -> None:
        loads.append(secret_hash)

    monkeypatch.setattr(api_key_cache, "_load_from_database", load)
    for _ in range(3):
        with pytest.raises(InvalidApiKey):
            async_to_sync(authenticate_secret)("oar_" + "A" * 43)
    assert len(loads) == 1


@pytest.mark.django_db(transaction=True)
def test_lookups_of_many_requests_share_one_redis_connection() -> None:
    """Each request runs in an asyncio context of its own; the key cache must not open a Redis
    connection per request that reaches it (Django's ``cache`` proxy is per context)."""
    if not settings.REDIS_URL:
        pytest.skip("the key cache is in-process without REDIS_URL")
    _, secret = make_api_key()
    server = redis.Redis.from_url(settings.REDIS_URL)

    async def requests() -> None:
        for _ in range(20):
            api_key_cache._local.clear()  # as after the local layer's second, on every request
            await asyncio.create_task(authenticate_secret(secret))

    def serve() -> None:
        # A thread of its own, like the server's event loop: no context there has used a cache.
        thread = threading.Thread(target=asyncio.run, args=(requests(),))
        thread.start()
        thread.join()

    async_to_sync(authenticate_secret)(secret)  # loaded from the database into the cache here
    serve()  # the first lookup may open the process's connection
    before = server.info("stats")["total_connections_received"]
    serve()
    assert server.info("stats")["total_connections_received"] - before == 0
    server.close()
