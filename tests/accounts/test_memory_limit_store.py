"""The in-process store with a fake clock: windows drain, leases end."""

from __future__ import annotations

from accounts.limit_store import AdmissionPlan, ScopePlan
from accounts.memory_limit_store import MemoryLimitStore

LABEL = "month:2026-11"


class FakeClock:
    def __init__(self) -> None:
        self.now_ms = 1_800_000_000_000.0

    def __call__(self) -> float:
        return self.now_ms

    def advance(self, seconds: float) -> None:
        self.now_ms += seconds * 1000


def plan(admission_id: str, scope: ScopePlan, *, tokens: int = 10, lease_seconds: int = 900) -> AdmissionPlan:
    return AdmissionPlan(
        admission_id=admission_id, tenant_id=1, scopes=(scope,), tokens=tokens, lease_seconds=lease_seconds
    )


async def test_a_per_minute_window_drains_one_request_per_interval() -> None:
    clock = FakeClock()
    store = MemoryLimitStore(clock=clock)
    scope = ScopePlan(scope="key", scope_id=1, rpm=2)
    assert (await store.admit(plan("a", scope))).denial is None
    assert (await store.admit(plan("b", scope))).denial is None
    assert (await store.admit(plan("c", scope))).denial is not None
    clock.advance(29.9)
    assert (await store.admit(plan("d", scope))).denial is not None
    clock.advance(0.2)
    assert (await store.admit(plan("e", scope))).denial is None


async def test_an_expired_lease_frees_its_slot_and_gives_its_reservation_back() -> None:
    clock = FakeClock()
    store = MemoryLimitStore(clock=clock)
    scope = ScopePlan(
        scope="key", scope_id=1, max_concurrent=1, token_budget=100, budget_label=LABEL, budget_ttl_seconds=86_400
    )
    lost = plan("lost", scope, tokens=100, lease_seconds=60)
    assert (await store.admit(lost)).denial is None
    clock.advance(59)
    assert (await store.admit(plan("early", scope, tokens=1))).denial is not None
    clock.advance(1)
    assert (await store.admit(plan("later", scope, tokens=1))).denial is None
    assert await store.budget_used(tenant_id=1, scope="key", scope_id=1, label=LABEL) == 1
    await store.release(lost, used_tokens=30)
    assert await store.budget_used(tenant_id=1, scope="key", scope_id=1, label=LABEL) == 31


async def test_a_budget_counter_is_forgotten_when_its_time_to_live_ends() -> None:
    clock = FakeClock()
    store = MemoryLimitStore(clock=clock)
    scope = ScopePlan(scope="key", scope_id=1, token_budget=10, budget_label=LABEL, budget_ttl_seconds=60)
    assert (await store.admit(plan("a", scope, tokens=10))).denial is None
    assert (await store.admit(plan("b", scope, tokens=10))).denial is not None
    clock.advance(60)
    assert await store.budget_used(tenant_id=1, scope="key", scope_id=1, label=LABEL) == 0
