"""A Redis database of its own for the limit tests, flushed around each test.

Limit tests use database 13 of the Redis that ``REDIS_URL`` names (or 127.0.0.1:6379), so that
flushing it cannot touch the cache or channel layer of anything else; they skip, saying why,
when no Redis answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings

from accounts.limit_store import LimitStore
from accounts.memory_limit_store import MemoryLimitStore
from accounts.redis_limit_store import RedisLimitStore

LIMITS_REDIS_DB = 13


def limits_redis_url() -> str:
    base = urlsplit(settings.REDIS_URL or "redis://127.0.0.1:6379/0")
    return urlunsplit((base.scheme, base.netloc, f"/{LIMITS_REDIS_DB}", "", ""))


def _flush(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
def limits_redis() -> Iterator[str]:
    """The URL of an empty Redis database for limit counters (skips when Redis is down)."""
    url = limits_redis_url()
    try:
        _flush(url)
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {url} ({error}); the Redis limit tests need it")
    yield url
    _flush(url)


@pytest.fixture(params=["memory", "redis"], name="store")
async def each_limit_store(request: pytest.FixtureRequest) -> AsyncIterator[LimitStore]:
    """Each limit store in turn, as ``store``: the same case against both."""
    if request.param == "memory":
        yield MemoryLimitStore()
        return
    redis_store = RedisLimitStore(request.getfixturevalue("limits_redis"), prefix="test:limits")
    yield redis_store
    await redis_store.aclose()
