"""Limit counters in Redis, shared by every worker process and machine.

One EVALSHA per admission and one per release (``accounts/limit_scripts.py``); the releases of
a request's admission steps, and the renewals of a worker's slots, are pipelined: one round
trip for all of them. The ``redis.asyncio`` client is owned here and created on first use, once
per event loop (a client is bound to the loop it connects on). Timeouts are short and there is at most one immediate
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
from redis.exceptions import NoScriptError, RedisError

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
# The keys and arguments of one script call.
_Call = tuple[list[str], list[Any]]


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
        await self._run(self._release, *self._release_call(plan, used_tokens, only_if_reserved))

    async def release_many(
        self, releases: Sequence[tuple[AdmissionPlan, int]], *, only_if_reserved: bool = False
    ) -> None:
        """One script per release, all in one pipeline (one round trip)."""
        if not releases:
            return
        self.client()
        assert self._release is not None
        calls = [self._release_call(plan, used, only_if_reserved) for plan, used in releases]
        await self._run_each(self._release, calls)

    async def renew(self, plans: Sequence[AdmissionPlan]) -> None:
        """One script per plan, all in one pipeline (one round trip)."""
        self.client()
        assert self._renew is not None
        calls: list[_Call] = []
        for plan in plans:
            keys = [
                counter_key(self.prefix, plan.tenant_id, scope.scope, scope.scope_id, "leases")
                for scope in plan.scopes
                if scope.max_concurrent is not None
            ]
            if keys:
                calls.append((keys, [plan.admission_id, plan.lease_seconds * 1000]))
        if calls:
            await self._run_each(self._renew, calls)

    async def budget_used(self, *, tenant_id: int, scope: ScopeKind, scope_id: int, label: str) -> int:
        key = counter_key(self.prefix, tenant_id, scope, scope_id, f"budget:{label}")
        try:
            # redis-py types its asyncio commands as the sync ones: ``Awaitable[str | None] | str | None``.
            used = await self.client().hget(key, "used")  # type: ignore[misc]  # awaitable at runtime, see above
        except (RedisError, OSError) as error:
            raise LimitStoreUnavailable(f"Redis: {error}") from error
        return int(used or 0)

    def _release_call(self, plan: AdmissionPlan, used_tokens: int, only_if_reserved: bool) -> _Call:
        keys: list[str] = []
        args: list[Any] = [plan.admission_id, plan.tokens, used_tokens, len(plan.scopes)]
        for scope in plan.scopes:
            keys.extend(_scope_keys(self.prefix, plan.tenant_id, scope.scope, scope.scope_id, scope.budget_label))
            args.extend((_or_none(scope.tpm), int(scope.token_budget is not None), int(scope.tracks_leases)))
        args.append(int(only_if_reserved))
        return keys, args

    async def _run(self, script: AsyncScript, keys: list[str], args: list[Any]) -> list[Any]:
        try:
            return await script(keys=keys, args=args)  # type: ignore[no-any-return]  # redis-py's scripts return Any
        except (RedisError, OSError) as error:
            raise LimitStoreUnavailable(f"Redis: {error}") from error

    async def _run_each(self, script: AsyncScript, calls: Sequence[_Call]) -> None:
        """``script`` once per call, in one round trip: raw EVALSHA commands in a pipeline that
        is no transaction (each script is atomic by itself and keeps to one tenant's keys, as
        Redis Cluster requires of a script). Not redis-py's pipelined scripts: they ask SCRIPT
        EXISTS first, one more round trip on every call."""
        client = self.client()
        try:
            replies = await _evalsha_each(client, script.sha, calls)
            refused = [call for call, reply in zip(calls, replies, strict=True) if isinstance(reply, NoScriptError)]
            if refused:
                # Redis lost its scripts (a restart, SCRIPT FLUSH): load it, and send again only
                # what it refused (the others ran; sending them twice could charge twice).
                await client.script_load(script.script)
                replies = [reply for reply in replies if not isinstance(reply, NoScriptError)]
                replies.extend(await _evalsha_each(client, script.sha, refused))
            failed = next((reply for reply in replies if isinstance(reply, RedisError)), None)
            if failed is not None:
                raise failed
        except (RedisError, OSError) as error:
            raise LimitStoreUnavailable(f"Redis: {error}") from error


async def _evalsha_each(client: Redis, sha: str, calls: Sequence[_Call]) -> list[Any]:
    """The replies in order, an error in its place (a pipeline's errors are not raised)."""
    pipeline = client.pipeline(transaction=False)
    for keys, args in calls:
        pipeline.evalsha(sha, len(keys), *keys, *args)
    return await pipeline.execute(raise_on_error=False)


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
