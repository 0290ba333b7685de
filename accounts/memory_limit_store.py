"""The in-process limit store: exact for ONE worker process (the embedded default).

Several workers each keep their own counters here, so each would admit the full limit: a
deployment with more than one worker process needs ``REDIS_URL`` (``RedisLimitStore``). The
logic is the same as the Lua scripts', step for step; the methods never await, so on the event
loop each admission is atomic, and a lock covers callers from other threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from accounts import rate_window
from accounts.limit_store import (
    AdmissionPlan,
    Denial,
    ScopeKind,
    ScopePlan,
    Verdict,
    counter_key,
    tighter,
)
from accounts.rate_window import WindowState

PREFIX = "mem"


def wall_clock_ms() -> float:
    return time.time() * 1000


@dataclass
class _Budget:
    used: int = 0
    reservations: dict[str, int] = field(default_factory=dict)
    expires_at: float = 0.0


@dataclass
class _Taken:
    """What one admission changes, computed before anything is changed."""

    tats: dict[str, float] = field(default_factory=dict)
    requests: WindowState | None = None
    tokens: WindowState | None = None


class MemoryLimitStore:
    def __init__(self, *, clock: Callable[[], float] = wall_clock_ms) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tats: dict[str, float] = {}
        self._leases: dict[str, dict[str, float]] = {}
        self._budgets: dict[str, _Budget] = {}

    async def admit(self, plan: AdmissionPlan) -> Verdict:
        with self._lock:
            return self._admit(plan, self._clock())

    async def release(self, plan: AdmissionPlan, *, used_tokens: int, only_if_reserved: bool = False) -> None:
        with self._lock:
            self._release(plan, used_tokens, self._clock(), only_if_reserved)

    async def release_many(
        self, releases: Sequence[tuple[AdmissionPlan, int]], *, only_if_reserved: bool = False
    ) -> None:
        with self._lock:
            now = self._clock()
            for plan, used_tokens in releases:
                self._release(plan, used_tokens, now, only_if_reserved)

    async def renew(self, plans: Sequence[AdmissionPlan]) -> None:
        with self._lock:
            deadline_base = self._clock()
            for plan in plans:
                for scope in plan.scopes:
                    slots = self._leases.get(self._key(plan, scope, "leases"), {})
                    if scope.max_concurrent is not None and plan.admission_id in slots:
                        slots[plan.admission_id] = deadline_base + plan.lease_seconds * 1000

    async def budget_used(self, *, tenant_id: int, scope: ScopeKind, scope_id: int, label: str) -> int:
        with self._lock:
            budget = self._budget(counter_key(PREFIX, tenant_id, scope, scope_id, f"budget:{label}"), self._clock())
            return 0 if budget is None else budget.used

    # --- the steps, in the order of the Lua script ----------------------------------------

    def _admit(self, plan: AdmissionPlan, now: float) -> Verdict:
        denial = self._first_denial(plan, now)
        if denial is not None:
            return Verdict(denial=denial)
        taken = self._take_windows(plan, now)
        if isinstance(taken, Denial):
            return Verdict(denial=taken)
        self._tats.update(taken.tats)
        deadline = now + plan.lease_seconds * 1000
        for scope in plan.scopes:
            # Slots and budget reservations are leased apart: a request admitted in two steps
            # (a slot, then a reservation) counts once against max_concurrent.
            if scope.max_concurrent is not None:
                self._leases.setdefault(self._key(plan, scope, "leases"), {})[plan.admission_id] = deadline
            if scope.token_budget is not None:
                self._leases.setdefault(self._key(plan, scope, "reservations"), {})[plan.admission_id] = deadline
                budget = self._budget_for_write(plan, scope, now)
                budget.used += plan.tokens
                budget.reservations[plan.admission_id] = plan.tokens
        return Verdict(requests=taken.requests, tokens=taken.tokens)

    def _first_denial(self, plan: AdmissionPlan, now: float) -> Denial | None:
        # Expired leases are purged only when a limit would refuse: until then they cannot
        # change a decision (the Lua script does the same, to save work on every admission).
        for scope in plan.scopes:
            if scope.token_budget is not None and self._budget_spent(plan, scope, now):
                self._purge_leases(plan.tenant_id, scope, now)
                if self._budget_spent(plan, scope, now):
                    return Denial("budget", scope.scope, scope.token_budget, 0)
        for scope in plan.scopes:
            if scope.max_concurrent is not None and self._slots_taken(plan, scope):
                self._purge_leases(plan.tenant_id, scope, now)
                if self._slots_taken(plan, scope):
                    return Denial("concurrency", scope.scope, scope.max_concurrent, 1000)
        return None

    def _budget_spent(self, plan: AdmissionPlan, scope: ScopePlan, now: float) -> bool:
        budget = self._budget(self._budget_key(plan, scope), now)
        return (0 if budget is None else budget.used) >= (scope.token_budget or 0)

    def _slots_taken(self, plan: AdmissionPlan, scope: ScopePlan) -> bool:
        return len(self._leases.get(self._key(plan, scope, "leases"), ())) >= (scope.max_concurrent or 0)

    def _take_windows(self, plan: AdmissionPlan, now: float) -> _Taken | Denial:
        taken = _Taken()
        for kind, amount in (("requests", 1), ("tokens", plan.tokens)):
            for scope in plan.scopes:
                limit = scope.rpm if kind == "requests" else scope.tpm
                if limit is None:
                    continue
                key = self._key(plan, scope, "rpm" if kind == "requests" else "tpm")
                new_tat, retry_ms = rate_window.take(self._tats.get(key, 0.0), now, limit, amount)
                if new_tat is None:
                    return Denial(kind, scope.scope, limit, retry_ms)  # type: ignore[arg-type]  # kind is a LimitKind loop value
                taken.tats[key] = new_tat
                window = rate_window.state(new_tat, now, limit)
                if kind == "requests":
                    taken.requests = tighter(taken.requests, window)
                else:
                    taken.tokens = tighter(taken.tokens, window)
        return taken

    def _release(self, plan: AdmissionPlan, used_tokens: int, now: float, only_if_reserved: bool) -> None:
        for scope in plan.scopes:
            if scope.tracks_leases:
                for name in ("leases", "reservations"):
                    self._leases.get(self._key(plan, scope, name), {}).pop(plan.admission_id, None)
            if scope.token_budget is not None:
                budget = self._budget(self._budget_key(plan, scope), now)
                reserved = None if budget is None else budget.reservations.pop(plan.admission_id, None)
                if budget is not None and (reserved is not None or not only_if_reserved):
                    # A reservation already given back by an expired lease: charge the usage whole.
                    budget.used += used_tokens - (reserved or 0)
            if scope.tpm is not None:
                key = self._key(plan, scope, "tpm")
                delta = used_tokens - min(plan.tokens, scope.tpm)
                self._tats[key] = rate_window.settle(self._tats.get(key, 0.0), now, scope.tpm, delta)

    def _purge_leases(self, tenant_id: int, scope: ScopePlan, now: float) -> None:
        if scope.max_concurrent is not None:
            slots = self._leases.get(counter_key(PREFIX, tenant_id, scope.scope, scope.scope_id, "leases"), {})
            for admission_id in _expired(slots, now):
                del slots[admission_id]
        if scope.token_budget is None:
            return
        reservations = self._leases.get(counter_key(PREFIX, tenant_id, scope.scope, scope.scope_id, "reservations"), {})
        budget = self._budget(
            counter_key(PREFIX, tenant_id, scope.scope, scope.scope_id, f"budget:{scope.budget_label}"), now
        )
        for admission_id in _expired(reservations, now):
            del reservations[admission_id]
            if budget is not None and admission_id in budget.reservations:
                budget.used -= budget.reservations.pop(admission_id)

    # --- storage --------------------------------------------------------------------------

    def _key(self, plan: AdmissionPlan, scope: ScopePlan, name: str) -> str:
        return counter_key(PREFIX, plan.tenant_id, scope.scope, scope.scope_id, name)

    def _budget_key(self, plan: AdmissionPlan, scope: ScopePlan) -> str:
        return self._key(plan, scope, f"budget:{scope.budget_label}")

    def _budget(self, key: str, now: float) -> _Budget | None:
        budget = self._budgets.get(key)
        if budget is not None and budget.expires_at <= now:
            del self._budgets[key]
            return None
        return budget

    def _budget_for_write(self, plan: AdmissionPlan, scope: ScopePlan, now: float) -> _Budget:
        key = self._budget_key(plan, scope)
        budget = self._budget(key, now)
        if budget is None:
            budget = self._budgets[key] = _Budget(expires_at=now + scope.budget_ttl_seconds * 1000)
            self._sweep(now)
        return budget

    def _sweep(self, now: float) -> None:
        """Forget counters nobody needs any more (run when a new budget period starts)."""
        for key in [key for key, budget in self._budgets.items() if budget.expires_at <= now]:
            del self._budgets[key]
        for key in [key for key, tat in self._tats.items() if tat <= now]:
            del self._tats[key]
        for key in [key for key, leases in self._leases.items() if not leases]:
            del self._leases[key]


def _expired(leases: dict[str, float], now: float) -> list[str]:
    return [admission_id for admission_id, deadline in leases.items() if deadline <= now]
