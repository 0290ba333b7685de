"""Admission: may this key send this request now? Returns an ``Admission`` to release at the end.

Checks, for the key and for its tenant (so a key never gets more than its tenant): the allowed
models, the token budget of the current period, requests in flight, requests per minute and
tokens per minute. Token limits and budgets reserve ``estimated_tokens`` now and settle to the
real usage on ``release``, which the request lifecycle calls once however the request ended.

No database query here: the limits come from the cached ``AuthenticatedKey`` snapshot, and the
counters from one ``LimitStore`` call (one Redis round trip, or none in process).

When the store (Redis) is unreachable, budgets fail closed — a budget that cannot be checked
could be overspent without bound — and rate limits fail open unless
``OARLOCK_RATE_LIMIT_FAIL_OPEN`` is off; the 503 says which.

No lease is left behind by a round trip whose answer never came. The caller may journal the
plan before the store takes anything (``before_store``): a worker killed during the round trip
leaves the plan for the next start to settle. An admission whose reply was lost (a command
timeout on a busy loop, a connection cut by a Redis restart) may still have been taken in
Redis: it is given back, repeat-safe, whatever was decided for the request. A lease that all of
this still misses holds its slot for at most ``OARLOCK_SLOT_LEASE_SECONDS`` (renewed while the
request runs: ``lease_renewal``) and its budget reservation ``OARLOCK_ADMISSION_LEASE_SECONDS``.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from django.conf import settings
from django.utils import timezone

from accounts.admission_release import admit_even_if_cancelled, give_back_unanswered, release_admissions
from accounts.authenticated_key import AuthenticatedKey, Limits
from accounts.errors import (
    AdmissionUnavailable,
    BudgetExhausted,
    ModelNotAllowed,
    RateLimited,
)
from accounts.lease_renewal import lease_renewal
from accounts.limit_store import (
    AdmissionPlan,
    Denial,
    LimitStore,
    LimitStoreUnavailable,
    ScopeKind,
    ScopePlan,
)
from accounts.memory_limit_store import MemoryLimitStore
from accounts.rate_limit_headers import rate_limit_headers, retry_headers, try_again_in
from accounts.rate_window import WINDOW_MS, WindowState
from accounts.redis_limit_store import RedisLimitStore
from accounts.token_budget import BudgetPeriodName, BudgetWindow, budget_window

logger = logging.getLogger(__name__)

# A budget counter outlives its period by this much, so a request that ends after the boundary
# still settles in the period it was admitted in.
BUDGET_COUNTER_GRACE_SECONDS = 86_400
# Logging "Redis is down" once per request would flood the log exactly when it matters.
UNAVAILABLE_LOG_INTERVAL_SECONDS = 10.0
_PERIOD_ADJECTIVE = {"day": "daily", "week": "weekly", "month": "monthly"}
# Which limits each step takes (``LimitKind`` values): the cheap ones need no body.
_CALL_LIMITS = frozenset({"requests", "concurrency"})
_TOKEN_LIMITS = frozenset({"tokens", "budget"})
_ALL_LIMITS = _CALL_LIMITS | _TOKEN_LIMITS
# Told the plan of an admission step before the store takes anything (to journal it).
BeforeStore = Callable[[AdmissionPlan], None]


@dataclass
class Admission:
    key: AuthenticatedKey
    model: str
    reserved_tokens: int = 0
    released: bool = False
    headers: dict[str, str] | None = None
    plan: AdmissionPlan | None = field(default=None, repr=False)
    store: LimitStore | None = field(default=None, repr=False)

    async def release(self, *, used_tokens: int | None = None) -> None:
        """Give back the request slot and settle reservations to ``used_tokens``. Idempotent.

        Never raises: a store that cannot be reached now is covered by the lease, which gives
        the slot and the reservation back when it ends.
        """
        await release_admissions((self,), used_tokens=used_tokens)


class AdmissionController:
    """Owns the limit store of this process: Redis when ``REDIS_URL`` is set, else in process."""

    def __init__(self, *, store: LimitStore | None = None) -> None:
        # A store passed in is used as is (benchmarks, tests); else it follows settings.
        self._fixed_store = store
        self._store: LimitStore | None = None
        self._store_url: str | None = None
        self._windows: dict[tuple[str, tzinfo], BudgetWindow] = {}
        self._unavailable_logged_at = float("-inf")

    @property
    def store(self) -> LimitStore:
        if self._fixed_store is not None:
            return self._fixed_store
        url = settings.REDIS_URL
        if self._store is None or url != self._store_url:
            self._store = RedisLimitStore(url) if url else MemoryLimitStore()
            self._store_url = url
        return self._store

    async def admit_call(self, *, key: AuthenticatedKey, before_store: BeforeStore | None = None) -> Admission:
        """The cheap limits, before the body is read: requests per minute and in flight."""
        return await self._admit(key=key, model="", tokens=0, limits=_CALL_LIMITS, before_store=before_store)

    async def reserve_tokens(
        self, *, key: AuthenticatedKey, model: str, estimated_tokens: int, before_store: BeforeStore | None = None
    ) -> Admission:
        """Model access, then ``estimated_tokens`` against tokens per minute and budgets."""
        if not key.allows_model(model):
            raise ModelNotAllowed(model)
        return await self._admit(
            key=key, model=model, tokens=estimated_tokens, limits=_TOKEN_LIMITS, before_store=before_store
        )

    async def admit(self, *, key: AuthenticatedKey, model: str, estimated_tokens: int) -> Admission:
        """Every limit in one step (``admit_call`` + ``reserve_tokens`` take them in two)."""
        if not key.allows_model(model):
            raise ModelNotAllowed(model)
        return await self._admit(key=key, model=model, tokens=estimated_tokens, limits=_ALL_LIMITS)

    async def _admit(
        self,
        *,
        key: AuthenticatedKey,
        model: str,
        tokens: int,
        limits: frozenset[str],
        before_store: BeforeStore | None = None,
    ) -> Admission:
        scopes = self._scope_plans(key, limits)
        if not scopes:
            return Admission(key=key, model=model, reserved_tokens=tokens)
        plan = AdmissionPlan(
            admission_id=secrets.token_hex(8),
            tenant_id=key.tenant_id,
            scopes=scopes,
            tokens=max(tokens, 0),
            # A slot alone is renewed while the request runs: a short lease bounds a lost one.
            # A reservation is not: its lease also covers a dead worker's restart, which
            # settles it (accounts/abandoned_admission.py).
            lease_seconds=settings.OARLOCK_ADMISSION_LEASE_SECONDS
            if "budget" in limits
            else settings.OARLOCK_SLOT_LEASE_SECONDS,
        )
        store = self.store
        if before_store is not None:
            before_store(plan)
        try:
            verdict = await admit_even_if_cancelled(store, plan)
        except LimitStoreUnavailable as error:
            give_back_unanswered(store, plan)
            self._fail_open_or_raise(plan, key, error)
            return Admission(key=key, model=model)
        if verdict.denial is not None:
            raise self._refusal(verdict.denial, key=key, model=model, plan=plan)
        headers = rate_limit_headers(requests=verdict.requests, tokens=verdict.tokens)
        lease_renewal.hold(store, plan)
        return Admission(
            key=key,
            model=model,
            reserved_tokens=plan.tokens,
            headers=headers or None,
            plan=plan,
            store=store,
        )

    def _scope_plans(self, key: AuthenticatedKey, kinds: frozenset[str]) -> tuple[ScopePlan, ...]:
        owners: tuple[tuple[ScopeKind, int, Limits], ...] = (
            ("key", key.key_id, key.key_limits),
            ("tenant", key.tenant_id, key.tenant_limits),
        )
        plans = (self._scope_plan(scope, scope_id, limits, kinds) for scope, scope_id, limits in owners)
        return tuple(
            plan
            for plan in plans
            if (plan.rpm, plan.tpm, plan.max_concurrent, plan.token_budget) != (None, None, None, None)
        )

    def _scope_plan(self, scope: ScopeKind, scope_id: int, limits: Limits, kinds: frozenset[str]) -> ScopePlan:
        label, ttl = "", 0
        budget = limits.token_budget if "budget" in kinds else None
        if budget is not None:
            now = timezone.now()
            window = self.budget_window(limits.budget_period, now)  # type: ignore[arg-type]  # set with token_budget
            label = window.label
            ttl = int((window.end - now).total_seconds()) + BUDGET_COUNTER_GRACE_SECONDS
        return ScopePlan(
            scope=scope,
            scope_id=scope_id,
            rpm=limits.rpm if "requests" in kinds else None,
            tpm=limits.tpm if "tokens" in kinds else None,
            max_concurrent=limits.max_concurrent if "concurrency" in kinds else None,
            token_budget=budget,
            budget_label=label,
            budget_ttl_seconds=ttl,
        )

    def budget_window(self, period: BudgetPeriodName, now: datetime) -> BudgetWindow:
        """The period containing ``now``, remembered until it ends (it is asked per request)."""
        zone = timezone.get_default_timezone()
        window = self._windows.get((period, zone))
        if window is None or not window.contains(now):
            window = budget_window(period, now, zone)
            self._windows[(period, zone)] = window
        return window

    def _fail_open_or_raise(self, plan: AdmissionPlan, key: AuthenticatedKey, error: Exception) -> None:
        if any(scope.token_budget is not None for scope in plan.scopes):
            raise AdmissionUnavailable(
                "The limit store is unavailable and token budgets fail closed, so this request "
                "was not admitted. Please try again in a few seconds."
            )
        if not settings.OARLOCK_RATE_LIMIT_FAIL_OPEN:
            raise AdmissionUnavailable(
                "The limit store is unavailable and rate limits are configured to fail closed, "
                "so this request was not admitted. Please try again in a few seconds."
            )
        now = time.monotonic()
        if now - self._unavailable_logged_at >= UNAVAILABLE_LOG_INTERVAL_SECONDS:
            self._unavailable_logged_at = now
            logger.warning(
                "limit store unavailable (%s): admitting %s… without rate limits (fail open)",
                error,
                key.key_prefix,
            )

    def _refusal(self, denial: Denial, *, key: AuthenticatedKey, model: str, plan: AdmissionPlan) -> Exception:
        who = f"API key {key.key_prefix}…" if denial.scope == "key" else f"tenant {key.tenant_name}"
        if denial.kind == "budget":
            limits = key.key_limits if denial.scope == "key" else key.tenant_limits
            window = self.budget_window(limits.budget_period, timezone.now())  # type: ignore[arg-type]  # set with token_budget
            resets = timezone.localtime(window.end).strftime("%Y-%m-%d %H:%M %Z")
            return BudgetExhausted(
                f"You exceeded your current quota: the {_PERIOD_ADJECTIVE[window.period]} token "
                f"budget of {who} ({denial.limit} tokens) is spent. It resets at {resets}."
            )
        wait = try_again_in(denial.retry_after_ms)
        headers = retry_headers(denial.retry_after_ms)
        if denial.kind == "concurrency":
            message = (
                f"Too many requests in flight for {who}: Limit {denial.limit} at a time. Please try again in {wait}."
            )
            return RateLimited(message, retry_after=denial.retry_after_ms / 1000, headers=headers, limit="concurrency")
        if denial.kind == "requests":
            unit, detail = "requests per min (RPM)", f"Limit {denial.limit}"
            headers.update(rate_limit_headers(requests=_exhausted_window(denial, 1)))
        else:
            unit, detail = "tokens per min (TPM)", f"Limit {denial.limit}, Requested {plan.tokens}"
            taken = min(plan.tokens, max(denial.limit, 1))
            headers.update(rate_limit_headers(tokens=_exhausted_window(denial, taken)))
        # The per-call limits are checked before the body (and so the model) is known.
        target = f" for {model}" if model else ""
        return RateLimited(
            f"Rate limit reached{target} by {who} on {unit}: {detail}. Please try again in {wait}.",
            retry_after=denial.retry_after_ms / 1000,
            limit_kind="requests" if denial.kind == "requests" else "tokens",
            headers=headers,
        )


def _exhausted_window(denial: Denial, amount: int) -> WindowState:
    """The window that refused: the bucket is busy for the wait plus what one more would take."""
    if denial.limit <= 0:
        return WindowState(limit=0, remaining=0, reset_ms=WINDOW_MS)
    busy = max(denial.retry_after_ms + WINDOW_MS - amount * WINDOW_MS / denial.limit, 0.0)
    remaining = math.floor((WINDOW_MS - busy) * denial.limit / WINDOW_MS + 1e-3)
    return WindowState(limit=denial.limit, remaining=max(remaining, 0), reset_ms=math.ceil(busy))


admission_controller = AdmissionController()


async def admit_request(*, key: AuthenticatedKey, model: str, estimated_tokens: int) -> Admission:
    return await admission_controller.admit(key=key, model=model, estimated_tokens=estimated_tokens)


async def admit_call(*, key: AuthenticatedKey, before_store: BeforeStore | None = None) -> Admission:
    return await admission_controller.admit_call(key=key, before_store=before_store)


async def reserve_tokens(
    *, key: AuthenticatedKey, model: str, estimated_tokens: int, before_store: BeforeStore | None = None
) -> Admission:
    return await admission_controller.reserve_tokens(
        key=key, model=model, estimated_tokens=estimated_tokens, before_store=before_store
    )
