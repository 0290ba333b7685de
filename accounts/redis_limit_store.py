"""Limit counters in Redis, shared by every worker process and machine.

One EVALSHA per admission and one per release (``accounts/limit_scripts.py``); the releases of
a request's admission steps, and the renewals of a worker's slots, are pipelined: one round
trip for all of them. The connection (``accounts/resp_client.py``: a third of ``redis.asyncio``'s
CPU per round trip) is owned here and opened on first use, once per event loop (a connection is
bound to the loop it was opened on). Timeouts are short and nothing is retried: when Redis is
gone, admission must learn it in milliseconds, not after backoff, and a script sent twice could
charge twice.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Final

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
from accounts.resp_client import ReplyError, RespClient

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
        self._client: RespClient | None = None

    def client(self) -> RespClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = RespClient(
                self.url, connect_timeout=CONNECT_TIMEOUT_SECONDS, command_timeout=COMMAND_TIMEOUT_SECONDS
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.aclose()

    async def admit(self, plan: AdmissionPlan) -> Verdict:
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
        (reply,) = await self._run_each(ADMIT, [(keys, args)])
        if reply[0] == 0:
            _, kind, index, limit, retry_ms = reply
            return Verdict(denial=Denial(_KINDS[kind], plan.scopes[index - 1].scope, limit, retry_ms))
        return Verdict(requests=_window(reply[1:4]), tokens=_window(reply[4:7]))

    async def release(self, plan: AdmissionPlan, *, used_tokens: int, only_if_reserved: bool = False) -> None:
        await self._run_each(RELEASE, [self._release_call(plan, used_tokens, only_if_reserved)])

    async def release_many(
        self, releases: Sequence[tuple[AdmissionPlan, int]], *, only_if_reserved: bool = False
    ) -> None:
        """One script per release, all in one pipeline (one round trip)."""
        if not releases:
            return
        calls = [self._release_call(plan, used, only_if_reserved) for plan, used in releases]
        await self._run_each(RELEASE, calls)

    async def renew(self, plans: Sequence[AdmissionPlan]) -> None:
        """One script per plan, all in one pipeline (one round trip)."""
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
            await self._run_each(RENEW, calls)

    async def budget_used(self, *, tenant_id: int, scope: ScopeKind, scope_id: int, label: str) -> int:
        key = counter_key(self.prefix, tenant_id, scope, scope_id, f"budget:{label}")
        (used,) = await self._execute([("HGET", key, "used")])
        if isinstance(used, ReplyError):
            raise LimitStoreUnavailable(f"Redis: {used}")
        return int(used or 0)

    def _release_call(self, plan: AdmissionPlan, used_tokens: int, only_if_reserved: bool) -> _Call:
        keys: list[str] = []
        args: list[Any] = [plan.admission_id, plan.tokens, used_tokens, len(plan.scopes)]
        for scope in plan.scopes:
            keys.extend(_scope_keys(self.prefix, plan.tenant_id, scope.scope, scope.scope_id, scope.budget_label))
            args.extend((_or_none(scope.tpm), int(scope.token_budget is not None), int(scope.tracks_leases)))
        args.append(int(only_if_reserved))
        return keys, args

    async def _run_each(self, script: str, calls: Sequence[_Call]) -> list[Any]:
        """``script`` once per call, in one round trip: EVALSHA commands pipelined, no
        transaction (each script is atomic by itself and keeps to one tenant's keys, as Redis
        Cluster requires of a script). The replies in order; a refused call raises."""
        sha = _sha1(script)
        commands = [("EVALSHA", sha, len(keys), *keys, *args) for keys, args in calls]
        replies = await self._execute(commands)
        refused = [index for index, reply in enumerate(replies) if _is_noscript(reply)]
        if refused:
            # Redis lost its scripts (a restart, SCRIPT FLUSH): load it, and send again only
            # what it refused (the others ran; sending them twice could charge twice).
            again = await self._execute([("SCRIPT", "LOAD", script), *(commands[index] for index in refused)])
            for index, reply in zip(refused, again[1:], strict=True):
                replies[index] = reply
        failed = next((reply for reply in replies if isinstance(reply, ReplyError)), None)
        if failed is not None:
            raise LimitStoreUnavailable(f"Redis: {failed}")
        return replies

    async def _execute(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        try:
            return await self.client().execute(*commands)
        except (OSError, TimeoutError) as error:
            raise LimitStoreUnavailable(f"Redis: {error or type(error).__name__}") from error


@lru_cache(maxsize=8)
def _sha1(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()


def _is_noscript(reply: Any) -> bool:
    return isinstance(reply, ReplyError) and reply.code == "NOSCRIPT"


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
    limit, remaining, reset_ms = values
    if limit == _NONE:
        return None
    return WindowState(limit=limit, remaining=remaining, reset_ms=reset_ms)
