"""What only the Redis store has to get right: round trips, and scripts Redis has forgotten."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from accounts import redis_limit_store, resp_client
from accounts.limit_scripts import RELEASE
from accounts.redis_limit_store import RedisLimitStore
from tests.accounts.test_limit_stores import LABEL, admitted, key_scope, plan, tenant_scope
from tests.limit_redis import limits_redis  # noqa: F401  (fixture)


class RoundTrips:
    """Counts what the client sends to Redis: one send per round trip (a pipeline is one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        send = resp_client._RespConnection.send

        def counted(connection: resp_client._RespConnection, commands: Any) -> Any:
            self.count += 1
            return send(connection, commands)

        monkeypatch.setattr(resp_client._RespConnection, "send", counted)


@pytest.fixture
async def store(limits_redis: str) -> AsyncIterator[RedisLimitStore]:
    redis_store = RedisLimitStore(limits_redis, prefix="test:limits")
    yield redis_store
    await redis_store.aclose()


async def test_the_releases_of_a_request_admitted_in_two_steps_take_one_round_trip(
    store: RedisLimitStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = plan(key_scope(rpm=1000, max_concurrent=5), tenant_scope(max_concurrent=50))
    tokens = plan(key_scope(tpm=10_000, token_budget=1000), tenant_scope(token_budget=5000), tokens=300)
    assert await admitted(store, call) and await admitted(store, tokens)
    await store.client().execute(("SCRIPT", "LOAD", RELEASE))  # as after the first release of this Redis' life
    round_trips = RoundTrips(monkeypatch)
    await store.release_many([(call, 40), (tokens, 40)])
    assert round_trips.count == 1
    assert await store.budget_used(tenant_id=3, scope="key", scope_id=7, label=LABEL) == 40


async def test_a_release_finds_its_script_again_when_redis_has_forgotten_it(
    limits_redis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A script text Redis has never seen: what it finds after a restart or SCRIPT FLUSH.
    monkeypatch.setattr(redis_limit_store, "RELEASE", f"{RELEASE}\n-- {uuid.uuid4().hex}")
    store = RedisLimitStore(limits_redis, prefix="test:limits")
    try:
        call, tokens = plan(key_scope(max_concurrent=1)), plan(key_scope(token_budget=1000), tokens=300)
        assert await admitted(store, call) and await admitted(store, tokens)
        round_trips = RoundTrips(monkeypatch)
        await store.release_many([(call, 40), (tokens, 40)])
        assert round_trips.count == 2  # both refused; the script loaded and both sent again
        assert await store.budget_used(tenant_id=3, scope="key", scope_id=7, label=LABEL) == 40
        assert await admitted(store, plan(key_scope(max_concurrent=1)))
    finally:
        await store.aclose()


async def test_a_renewal_of_many_slots_takes_one_round_trip(
    store: RedisLimitStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = [plan(key_scope(max_concurrent=5), lease_seconds=1) for _ in range(3)]
    for request in running:
        assert await admitted(store, request)
    await store.renew(running[:1])  # the script is loaded
    round_trips = RoundTrips(monkeypatch)
    await store.renew(running)
    assert round_trips.count == 1
