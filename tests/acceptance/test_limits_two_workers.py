"""Limits and key changes hold across two real Daphne workers sharing PostgreSQL and Redis.

Both workers use Redis database 13 (``tests/limit_redis.py``) for limit counters and the key
cache, and cache key lookups for 300 s: a revocation can only reach the other worker in time
through the cache invalidation, not by an entry expiring.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import openai
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.admin_token_lifecycle import create_admin_token
from accounts.redis_limit_store import DEFAULT_PREFIX, RedisLimitStore
from accounts.tenant_membership import add_member
from accounts.token_budget import budget_window
from paddler_protocol.paddler_message import ContentToken
from paddler_protocol.token_usage import TokenUsage
from tests.factories import make_api_key, make_tenant
from tests.fake_paddler import FakePaddlerServer, Sleep
from tests.fake_paddler_scripts import finished
from tests.limit_redis import limits_redis  # noqa: F401  (fixture)
from tests.live_server import LiveServer

USER = [{"role": "user", "content": "Hi"}]

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="two workers need a shared PostgreSQL database: run with DATABASE_URL=postgres://…",
)


@dataclass
class Workers:
    first: LiveServer
    second: LiveServer
    redis_url: str

    def __iter__(self) -> Iterator[LiveServer]:
        return iter((self.first, self.second))

    def alternate(self, count: int) -> list[LiveServer]:
        return [self.first if index % 2 == 0 else self.second for index in range(count)]


@pytest.fixture
def workers(live_server_factory: Callable[..., LiveServer], limits_redis: str, transactional_db: None) -> Workers:
    env = {"REDIS_URL": limits_redis, "OARLOCK_API_KEY_CACHE_SECONDS": "300"}
    return Workers(live_server_factory(env), live_server_factory(env), limits_redis)


def client(server: LiveServer, secret: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=30)


def chat_status(server: LiveServer, secret: str, **options: object) -> int:
    """200, or the HTTP status of the error the SDK raised."""
    try:
        with client(server, secret) as sdk:
            if options.pop("stream", False):
                for _ in sdk.chat.completions.create(model="default", messages=USER, stream=True, **options):
                    pass
            else:
                sdk.chat.completions.create(model="default", messages=USER, **options)
        return 200
    except openai.APIStatusError as error:
        return error.status_code


def burst(calls: list[Callable[[], int]]) -> list[int]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def models_status(server: LiveServer, secret: str) -> int:
    return httpx.get(server.base_url + "/models", headers={"Authorization": f"Bearer {secret}"}, timeout=10).status_code


def seconds_until_refused(worker: Workers, secret: str, timeout: float = 5.0) -> float:
    """How long after now until BOTH workers refuse ``secret`` (401)."""
    start = time.monotonic()
    pending = set(worker)
    while pending and time.monotonic() - start < timeout:
        pending = {server for server in pending if models_status(server, secret) != 401}
        if pending:
            time.sleep(0.05)
    assert not pending, "a worker still accepts the key"
    return time.monotonic() - start


def staff_token() -> str:
    staff = get_user_model().objects.create_user("root", is_staff=True, is_superuser=True)
    return create_admin_token(user=staff, name="test").secret


def test_a_requests_per_minute_limit_admits_exactly_n_across_both_workers(
    workers: Workers, fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(rpm=5)
    statuses = burst([lambda server=server: chat_status(server, secret) for server in workers.alternate(12)])
    assert sorted(statuses) == [200] * 5 + [429] * 7
    assert len(fake_paddler.requests) == 5


def test_a_concurrency_limit_of_one_admits_one_stream_at_a_time(
    workers: Workers, fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(max_concurrent=1)
    fake_paddler.script(*[finished([ContentToken("a"), Sleep(2.0), ContentToken("b")])] * 6)
    statuses = burst(
        [lambda server=server: chat_status(server, secret, stream=True) for server in workers.alternate(6)]
    )
    assert sorted(statuses) == [200] + [429] * 5
    assert len(fake_paddler.requests) == 1
    # The slot came back when the stream ended: either worker admits the next one.
    assert chat_status(workers.second, secret, stream=True) == 200
    assert chat_status(workers.first, secret) == 200


def test_a_budget_spent_by_a_concurrent_burst_overshoots_by_at_most_the_admitted_requests(
    workers: Workers, fake_paddler: FakePaddlerServer
) -> None:
    api_key, secret = make_api_key(token_budget=100, budget_period="day")
    usage = TokenUsage(prompt_tokens=10, content_tokens=30)
    fake_paddler.script(*[finished([ContentToken("a"), Sleep(1.5), ContentToken("b")], usage=usage)] * 10)
    # Each request reserves 31 tokens ("Hi" ≈ 1 + max_tokens 30) until it settles to its real 40.
    statuses = burst(
        [lambda server=server: chat_status(server, secret, max_tokens=30) for server in workers.alternate(10)]
    )
    admitted = statuses.count(200)
    assert admitted == 4  # reservations of 0, 31, 62 and 93 tokens were still below 100
    assert sorted(statuses) == [200] * 4 + [429] * 6
    label = budget_window("day", timezone.now(), timezone.get_default_timezone()).label
    store = RedisLimitStore(workers.redis_url, prefix=DEFAULT_PREFIX)

    async def spent() -> int:
        try:
            return await store.budget_used(tenant_id=api_key.tenant_id, scope="key", scope_id=api_key.pk, label=label)
        finally:
            await store.aclose()

    # Over by 60: less than what the four requests admitted before it ran out used (160).
    # Each worker settles its reservation after the response went out: wait for the last one.
    deadline = time.monotonic() + 5
    while (used := asyncio.run(spent())) != 40 * admitted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert used == 40 * admitted
    with pytest.raises(openai.RateLimitError) as refused:
        client(workers.second, secret).chat.completions.create(model="default", messages=USER)
    assert refused.value.code == "insufficient_quota"


def test_a_revoked_key_fails_on_both_workers_within_a_second(workers: Workers, fake_paddler: FakePaddlerServer) -> None:
    api_key, secret = make_api_key()
    for server in workers:
        assert models_status(server, secret) == 200  # now cached by both workers
    revoked = httpx.post(
        f"{workers.first.url}/api/keys/{api_key.pk}/revoke/",
        headers={"Authorization": f"Bearer {staff_token()}"},
        timeout=10,
    )
    assert revoked.status_code == 200
    assert seconds_until_refused(workers, secret) <= 1.3


def test_a_rotated_keys_old_secret_works_until_the_grace_period_ends_and_then_not(
    workers: Workers, fake_paddler: FakePaddlerServer
) -> None:
    api_key, old_secret = make_api_key()
    for server in workers:
        assert models_status(server, old_secret) == 200
    rotated = httpx.post(
        f"{workers.second.url}/api/keys/{api_key.pk}/rotate/",
        json={"grace_seconds": 3},
        headers={"Authorization": f"Bearer {staff_token()}"},
        timeout=10,
    )
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    grace_ends = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    for server in workers:
        assert models_status(server, new_secret) == 200
        assert chat_status(server, old_secret) == 200
    time.sleep(max((grace_ends - datetime.now(UTC)).total_seconds(), 0))
    for server in workers:
        assert models_status(server, old_secret) == 401
        assert chat_status(server, new_secret) == 200


def test_a_tenant_admin_cannot_see_or_touch_another_tenants_keys(workers: Workers) -> None:
    acme, globex = make_tenant("acme"), make_tenant("globex")
    alice = get_user_model().objects.create_user("alice")
    add_member(tenant=acme, user=alice, role="admin")
    token = create_admin_token(user=alice, name="cli").secret
    theirs, _ = make_api_key(globex)
    mine, _ = make_api_key(acme)
    headers = {"Authorization": f"Bearer {token}"}
    for server in workers:
        listed = httpx.get(f"{server.url}/api/keys/", headers=headers, timeout=10).json()["results"]
        assert [key["id"] for key in listed] == [mine.pk]
        assert httpx.get(f"{server.url}/api/keys/{theirs.pk}/", headers=headers, timeout=10).status_code == 404
        assert httpx.post(f"{server.url}/api/keys/{theirs.pk}/revoke/", headers=headers, timeout=10).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
