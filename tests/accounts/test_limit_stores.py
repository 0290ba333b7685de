"""The two limit stores — in process and Redis — against the same cases."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest

from accounts.limit_store import AdmissionPlan, LimitStore, ScopePlan
from accounts.memory_limit_store import MemoryLimitStore
from tests.limit_redis import each_limit_store, limits_redis  # noqa: F401  (fixtures)

_ids = itertools.count(1)
LABEL = "day:2026-11-26"


def key_scope(**limits: int) -> ScopePlan:
    return _scope("key", 7, limits)


def tenant_scope(**limits: int) -> ScopePlan:
    return _scope("tenant", 3, limits)


def _scope(scope: str, scope_id: int, limits: dict[str, int]) -> ScopePlan:
    budget = limits.get("token_budget")
    return ScopePlan(
        scope=scope,  # type: ignore[arg-type]
        scope_id=scope_id,
        **limits,
        budget_label=LABEL if budget is not None else "",
        budget_ttl_seconds=3600 if budget is not None else 0,
    )


def plan(*scopes: ScopePlan, tokens: int = 10, lease_seconds: int = 900) -> AdmissionPlan:
    return AdmissionPlan(
        admission_id=f"a{next(_ids)}", tenant_id=3, scopes=scopes, tokens=tokens, lease_seconds=lease_seconds
    )


async def admitted(store: LimitStore, request: AdmissionPlan) -> bool:
    return (await store.admit(request)).denial is None


async def test_a_requests_per_minute_limit_admits_exactly_its_limit_in_a_burst(store: LimitStore) -> None:
    results = [await admitted(store, plan(key_scope(rpm=3))) for _ in range(5)]
    assert results == [True, True, True, False, False]


async def test_a_refused_request_is_told_when_one_more_fits(store: LimitStore) -> None:
    for _ in range(3):
        await store.admit(plan(key_scope(rpm=3)))
    verdict = await store.admit(plan(key_scope(rpm=3)))
    assert verdict.denial is not None
    assert (verdict.denial.kind, verdict.denial.scope, verdict.denial.limit) == ("requests", "key", 3)
    # One request drains every 20 s; the burst took a few ms of it.
    assert 19_000 < verdict.denial.retry_after_ms <= 20_000


async def test_concurrent_admissions_never_exceed_the_limit(store: LimitStore) -> None:
    results = await asyncio.gather(*(admitted(store, plan(key_scope(rpm=10))) for _ in range(40)))
    assert sum(results) == 10


async def test_the_tenant_limit_caps_all_its_keys_together(store: LimitStore) -> None:
    other_key = ScopePlan(scope="key", scope_id=8, rpm=100)
    results = [
        await admitted(store, plan(key_scope(rpm=100), tenant_scope(rpm=3))),
        await admitted(store, plan(other_key, tenant_scope(rpm=3))),
        await admitted(store, plan(key_scope(rpm=100), tenant_scope(rpm=3))),
        await admitted(store, plan(other_key, tenant_scope(rpm=3))),
    ]
    assert results == [True, True, True, False]


async def test_a_refused_request_takes_nothing_from_the_other_limits(store: LimitStore) -> None:
    busy = plan(tenant_scope(max_concurrent=1))
    assert await admitted(store, busy)
    verdict = await store.admit(plan(key_scope(rpm=1), tenant_scope(max_concurrent=1)))
    assert verdict.denial is not None and verdict.denial.kind == "concurrency"
    await store.release(busy, used_tokens=0)
    assert await admitted(store, plan(key_scope(rpm=1), tenant_scope(max_concurrent=1)))


async def test_a_concurrency_limit_of_one_admits_the_next_request_after_the_release(store: LimitStore) -> None:
    first = plan(key_scope(max_concurrent=1))
    assert await admitted(store, first)
    assert not await admitted(store, plan(key_scope(max_concurrent=1)))
    await store.release(first, used_tokens=5)
    assert await admitted(store, plan(key_scope(max_concurrent=1)))


async def test_a_budget_counts_reservations_and_settles_to_real_usage(store: LimitStore) -> None:
    request = plan(key_scope(token_budget=1000), tokens=300)
    assert await admitted(store, request)
    assert await store.budget_used(tenant_id=3, scope="key", scope_id=7, label=LABEL) == 300
    await store.release(request, used_tokens=120)
    assert await store.budget_used(tenant_id=3, scope="key", scope_id=7, label=LABEL) == 120


async def test_a_burst_overshoots_a_budget_by_at_most_the_requests_admitted_before_it_ran_out(
    store: LimitStore,
) -> None:
    burst = [plan(key_scope(token_budget=100), tokens=30) for _ in range(10)]
    results = await asyncio.gather(*(admitted(store, request) for request in burst))
    assert sum(results) == 4  # reservations 0, 30, 60, 90 were below 100 when admitted
    for request, was_admitted in zip(burst, results, strict=True):
        if was_admitted:
            await store.release(request, used_tokens=40)
    assert await store.budget_used(tenant_id=3, scope="key", scope_id=7, label=LABEL) == 160
    verdict = await store.admit(plan(key_scope(token_budget=100), tokens=1))
    assert verdict.denial is not None and verdict.denial.kind == "budget"


async def test_a_budget_of_another_period_starts_from_zero(store: LimitStore) -> None:
    assert await admitted(store, plan(key_scope(token_budget=10), tokens=10))
    assert not await admitted(store, plan(key_scope(token_budget=10), tokens=10))
    next_day = ScopePlan(
        scope="key", scope_id=7, token_budget=10, budget_label="day:2026-11-27", budget_ttl_seconds=3600
    )
    assert await admitted(store, plan(next_day, tokens=10))


async def test_a_tokens_per_minute_reservation_is_given_back_when_usage_is_lower(store: LimitStore) -> None:
    first = plan(key_scope(tpm=1000), tokens=800)
    assert await admitted(store, first)
    assert not await admitted(store, plan(key_scope(tpm=1000), tokens=800))
    await store.release(first, used_tokens=100)
    assert await admitted(store, plan(key_scope(tpm=1000), tokens=800))


async def test_usage_above_the_reservation_is_charged_to_the_token_window(store: LimitStore) -> None:
    first = plan(key_scope(tpm=1000), tokens=100)
    assert await admitted(store, first)
    await store.release(first, used_tokens=950)
    verdict = await store.admit(plan(key_scope(tpm=1000), tokens=100))
    assert verdict.denial is not None and verdict.denial.kind == "tokens"


async def test_a_request_larger_than_the_token_limit_passes_when_the_window_is_full(store: LimitStore) -> None:
    verdict = await store.admit(plan(key_scope(tpm=1000), tokens=5000))
    assert verdict.denial is None
    assert verdict.tokens is not None and verdict.tokens.remaining == 0


async def test_an_admission_reports_the_tightest_windows(store: LimitStore) -> None:
    verdict = await store.admit(plan(key_scope(rpm=10, tpm=1000), tenant_scope(rpm=4), tokens=250))
    assert verdict.requests is not None and verdict.tokens is not None
    assert (verdict.requests.limit, verdict.requests.remaining) == (4, 3)
    assert 14_900 < verdict.requests.reset_ms <= 15_000
    assert (verdict.tokens.limit, verdict.tokens.remaining) == (1000, 750)


async def test_a_limit_of_zero_admits_nothing(store: LimitStore) -> None:
    assert not await admitted(store, plan(key_scope(rpm=0)))
    assert not await admitted(store, plan(key_scope(max_concurrent=0)))
    assert not await admitted(store, plan(key_scope(token_budget=0)))


async def test_an_expired_lease_frees_its_slot_and_gives_its_reservation_back(store: LimitStore) -> None:
    if isinstance(store, MemoryLimitStore):
        pytest.skip("covered with a fake clock in test_memory_limit_store.py")
    lost = plan(key_scope(max_concurrent=1, token_budget=100), tokens=100, lease_seconds=1)
    assert await admitted(store, lost)
    assert not await admitted(store, plan(key_scope(max_concurrent=1, token_budget=100), tokens=1))
    await asyncio.sleep(1.05)
    later = plan(key_scope(max_concurrent=1, token_budget=100), tokens=1)
    assert await admitted(store, later)
    assert await store.budget_used(tenant_id=3, scope="key", scope_id=7, label=LABEL) == 1
    # A release that comes after its lease ended charges the real usage.
    await store.release(lost, used_tokens=30)
    assert await store.budget_used(tenant_id=3, scope="key", scope_id=7, label=LABEL) == 31


async def test_a_request_admitted_in_two_steps_takes_one_slot(store: LimitStore) -> None:
    # The cheap step takes the slot, the second one reserves the budget (accounts/admission.py).
    first_call, first_tokens = plan(key_scope(max_concurrent=2)), plan(key_scope(token_budget=1000))
    assert await admitted(store, first_call) and await admitted(store, first_tokens)
    assert await admitted(store, plan(key_scope(max_concurrent=2)))
    assert not await admitted(store, plan(key_scope(max_concurrent=2)))
    for step in (first_call, first_tokens):
        await store.release(step, used_tokens=5)
    assert await admitted(store, plan(key_scope(max_concurrent=2)))
    assert await store.budget_used(tenant_id=3, scope="key", scope_id=7, label=LABEL) == 5


async def test_the_two_steps_of_a_request_released_together_free_its_slot_and_charge_its_usage(
    store: LimitStore,
) -> None:
    call = plan(key_scope(rpm=1000, max_concurrent=1), tenant_scope(max_concurrent=5))
    tokens = plan(key_scope(tpm=1000, token_budget=1000), tenant_scope(token_budget=5000), tokens=300)
    assert await admitted(store, call) and await admitted(store, tokens)
    assert not await admitted(store, plan(key_scope(max_concurrent=1)))
    await store.release_many([(call, 40), (tokens, 40)])
    assert await admitted(store, plan(key_scope(max_concurrent=1)))
    for scope, scope_id in (("key", 7), ("tenant", 3)):
        assert await store.budget_used(tenant_id=3, scope=scope, scope_id=scope_id, label=LABEL) == 40
    # The token window holds the 40 used (plus the next request's 10), not the 300 reserved.
    verdict = await store.admit(plan(key_scope(tpm=1000)))
    assert verdict.tokens is not None and 945 <= verdict.tokens.remaining <= 950


async def test_releases_repeated_after_a_lost_reply_charge_the_usage_once(store: LimitStore) -> None:
    call, tokens = plan(key_scope(max_concurrent=1)), plan(key_scope(token_budget=1000), tokens=300)
    assert await admitted(store, call) and await admitted(store, tokens)
    await store.release_many([(call, 40), (tokens, 40)])
    # The retry of a release whose reply never came: what was settled is left alone.
    await store.release_many([(call, 40), (tokens, 40)], only_if_reserved=True)
    assert await store.budget_used(tenant_id=3, scope="key", scope_id=7, label=LABEL) == 40
    assert await admitted(store, plan(key_scope(max_concurrent=1)))


async def test_an_expired_reservation_is_given_back_while_the_slots_stay_counted(store: LimitStore) -> None:
    if isinstance(store, MemoryLimitStore):
        pytest.skip("covered with a fake clock in test_memory_limit_store.py")
    lost = plan(key_scope(token_budget=100), tokens=100, lease_seconds=1)
    held = plan(key_scope(max_concurrent=1), lease_seconds=900)
    assert await admitted(store, lost) and await admitted(store, held)
    await asyncio.sleep(1.05)
    assert await admitted(store, plan(key_scope(token_budget=100), tokens=1))
    assert not await admitted(store, plan(key_scope(max_concurrent=1)))


async def test_a_renewed_slot_outlives_its_lease_and_one_no_longer_renewed_ends_with_it(store: LimitStore) -> None:
    running = plan(key_scope(max_concurrent=1), lease_seconds=1)
    assert await admitted(store, running)
    await asyncio.sleep(0.6)
    await store.renew([running])
    await asyncio.sleep(0.6)  # past the first lease, within the renewed one
    assert not await admitted(store, plan(key_scope(max_concurrent=1)))
    await asyncio.sleep(0.6)  # its worker stopped renewing it: the slot is free
    assert await admitted(store, plan(key_scope(max_concurrent=1)))


async def test_a_renewal_never_brings_back_a_released_slot(store: LimitStore) -> None:
    done = plan(key_scope(max_concurrent=1))
    assert await admitted(store, done)
    await store.release(done, used_tokens=0)
    await store.renew([done])
    assert await admitted(store, plan(key_scope(max_concurrent=1)))


def test_only_token_limits_budgets_and_slots_need_a_release() -> None:
    assert not plan(key_scope(rpm=5), tenant_scope(rpm=50)).needs_release
    for limits in ({"tpm": 5}, {"max_concurrent": 1}, {"token_budget": 10}):
        assert plan(key_scope(rpm=5), tenant_scope(**limits)).needs_release


def test_a_plan_journalled_as_json_comes_back_whole() -> None:
    # A dead worker's admission is settled from the plan in the in-flight journal: every limit
    # of every scope must survive the round trip, or the settlement gives back the wrong slots.
    journalled = plan(
        key_scope(rpm=60, tpm=1000, max_concurrent=2, token_budget=5000),
        tenant_scope(rpm=600, token_budget=90000),
        tokens=321,
        lease_seconds=60,
    )
    assert AdmissionPlan.from_json(json.loads(json.dumps(journalled.to_json()))) == journalled
