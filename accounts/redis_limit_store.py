"""Limit counters in Redis, shared by every worker process and machine.

One EVALSHA per admission and one per release (``accounts/limit_scripts.py``). The
``redis.asyncio`` client is owned here and created on first use, once per event loop (a client
is bound to the loop it connects on). Timeouts are short and there is at most one immediate
retry: when Redis is gone, admission must learn it in milliseconds, not after backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Final

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from accounts.limit_scripts import ADMIT, RELEASE, RENEW
from accounts.limit_store import (
    AdmissionPlan,
    Denial,
    LimitKind,
    LimitStoreUnavailable,
    ScopeKind,
    Verdict,
    counter_key,
)
from accounts.rate_window import WindowState

DEFAULT_PREFIX: Final = "oarlock:limits"
CONNECT_TIMEOUT_SECONDS: Final = 0.5
COMMAND_TIMEOUT_SECONDS: Final = 1.0
_KINDS: Final[dict[int, LimitKind]] = {1: "requests", 2: "tokens", 3: "concurrency", 4: "budget"}
_NONE: Final = -1


class RedisLimitStore:
    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Redis | None = None
        self._admit: AsyncScript | None = None
        self._release: AsyncScript | None = None
        self._renew: AsyncScript | None = None

    def client(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = Redis.from_url(
                self.url,
                socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                socket_timeout=COMMAND_TIMEOUT_SECONDS,
                # One immediate retry replaces a pooled connection Redis closed; no backoff.
                retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            )
            self._admit = self._client.register_script(ADMIT)
            self._release = self._client.register_script(RELEASE)
            self._renew = self._client.register_script(RENEW)
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.aclose()

    async def admit(self, plan: AdmissionPlan) -> Verdict:
        self.client()
        assert self._admit is not None
        keys: list[str] = []
        args: list[Any] = [plan.admission_id, plan.tokens, plan.lease_seconds * 1000, len(plan.scopes)]
        for scope in plan.scopes:
            keys.extend(_scope_keys(self.prefix, plan.tenant_id, scope.scope, scope.scope_id, scope.budget_label))
            args.extend(
                (
                    _or_none(scope.rpm),
                    _or_none(scope.tpm),
                    _or_none(scope.max_concurrent),
                    _or_none(scope.token_budget),
                    scope.budget_ttl_seconds,
                )
            )
        reply = await self._run(self._admit, keys, args)
        if reply[0] == 0:
            _, kind, index, limit, retry_ms = (int(value) for value in reply)
            return Verdict(denial=Denial(_KINDS[kind], plan.scopes[index - 1].scope, limit, retry_ms))
        return Verdict(requests=_window(reply[1:4]), tokens=_window(reply[4:7]))

    async def release(self, plan: AdmissionPlan, *, used_tokens: int, only_if_reserved: bool = False) -> None:
        self.client()
        assert self._release is not None
        keys: list[str] = []
        args: list[Any] = [plan.admission_id, plan.tokens, used_tokens, len(plan.scopes)]
        for scope in plan.scopes:
            keys.extend(_scope_keys(self.prefix, plan.tenant_id, scope.scope, scope.scope_id, scope.budget_label))
            args.extend((_or_none(scope.tpm), int(scope.token_budget is not None), int(scope.tracks_leases)))
        args.append(int(only_if_reserved))
        await self._run(self._release, keys, args)

    async def renew(self, plans: Sequence[AdmissionPlan]) -> None:
        """One script per plan, all in one pipeline (one round trip): each plan's keys share
        its tenant's hash tag, as Redis Cluster requires of a script."""
        client = self.client()
        assert self._renew is not None
        pipeline = client.pipeline(transaction=False)
        for plan in plans:
            keys = [
                counter_key(self.prefix, plan.tenant_id, scope.scope, scope.scope_id, "leases")
                for scope in plan.scopes
                if scope.max_concurrent is not None
            ]
            if keys:
                await self._renew(keys=keys, args=[plan.admission_id, plan.lease_seconds * 1000], client=pipeline)
        try:
            await pipeline.execute()
        except (RedisError, OSError) as error:
            raise LimitStoreUnavailable(f"Redis: {error}") from error

    async def budget_used(self, *, tenant_id: int, scope: ScopeKind, scope_id: int, label: str) -> int:
        key = counter_key(self.prefix, tenant_id, scope, scope_id, f"budget:{label}")
        try:
            # redis-py types its asyncio commands as the sync ones: ``Awaitable[str | None] | str | None``.
            used = await self.client().hget(key, "used")  # type: ignore[misc]  # awaitable at runtime, see above
        except (RedisError, OSError) as error:
            raise LimitStoreUnavailable(f"Redis: {error}") from error
        return int(used or 0)

    async def _run(self, script: AsyncScript, keys: list[str], args: list[Any]) -> list[Any]:
        try:
            return await script(keys=keys, args=args)  # type: ignore[no-any-return]  # redis-py's scripts return Any
        except (RedisError, OSError) as error:
            raise LimitStoreUnavailable(f"Redis: {error}") from error


@lru_cache(maxsize=4096)
def _scope_keys(prefix: str, tenant_id: int, scope: ScopeKind, scope_id: int, label: str) -> tuple[str, ...]:
    """The counter names of a scope (built once: admission is on every request's path)."""
    return tuple(
        counter_key(prefix, tenant_id, scope, scope_id, name)
        for name in ("rate", "leases", f"budget:{label}", "reservations")
    )


def _or_none(limit: int | None) -> int:
    return _NONE if limit is None else limit


def _window(values: list[Any]) -> WindowState | None:
    limit, remaining, reset_ms = (int(value) for value in values)
    if limit == _NONE:
        return None
    return WindowState(limit=limit, remaining=remaining, reset_ms=reset_ms)
