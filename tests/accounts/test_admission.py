"""Admission: limits of key and tenant, refusals that say which limit, release, Redis outages."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from accounts import admission_release
from accounts.abandoned_admission import unfinished_releases
from accounts.admission import Admission, AdmissionController
from accounts.admission_release import release_admissions
from accounts.authenticated_key import AuthenticatedKey, Limits
from accounts.errors import (
    AdmissionUnavailable,
    BudgetExhausted,
    ModelNotAllowed,
    RateLimited,
)
from accounts.lease_renewal import lease_renewal
from accounts.limit_store import LimitStore, LimitStoreUnavailable
from accounts.memory_limit_store import MemoryLimitStore
from accounts.redis_limit_store import RedisLimitStore
from tests.limit_redis import each_limit_store, limits_redis  # noqa: F401  (fixtures)

_ids = itertools.count(100)
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def controller(settings: Any) -> Iterator[AdmissionController]:
    settings.REDIS_URL = ""
    yield AdmissionController()


def make_key(*, tenant: Limits | None = None, **key_limits: object) -> AuthenticatedKey:
    return AuthenticatedKey(
        key_id=next(_ids),
        key_name="k",
        key_prefix="oar_abcd1234",
        tenant_id=next(_ids),
        tenant_name="acme",
        key_limits=Limits(**key_limits),  # type: ignore[arg-type]
        tenant_limits=tenant or Limits(),
    )


async def admitted_in_two_steps(controller: AdmissionController, key: AuthenticatedKey) -> list[Admission]:
    """A request's two admission steps: the call limits, then 300 tokens reserved for model m."""
    return [
        await controller.admit_call(key=key),
        await controller.reserve_tokens(key=key, model="m", estimated_tokens=300),
    ]


async def test_a_model_outside_the_allowed_list_is_refused_naming_the_model(controller: AdmissionController) -> None:
    key = make_key(allowed_models=("small",))
    with pytest.raises(ModelNotAllowed, match="`big`"):
        await controller.admit(key=key, model="big", estimated_tokens=10)


async def test_the_tenant_allowed_models_apply_to_every_key(controller: AdmissionController) -> None:
    key = make_key(tenant=Limits(allowed_models=("small",)))
    with pytest.raises(ModelNotAllowed):
        await controller.admit(key=key, model="big", estimated_tokens=10)


async def test_a_key_without_limits_needs_no_store_and_gets_no_headers(controller: AdmissionController) -> None:
    admission = await controller.admit(key=make_key(), model="m", estimated_tokens=10)
    assert admission.headers is None and admission.plan is None


async def test_an_admitted_request_carries_the_openai_rate_limit_headers(controller: AdmissionController) -> None:
    admission = await controller.admit(key=make_key(rpm=60, tpm=1000), model="m", estimated_tokens=100)
    assert admission.headers == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "900",
        "x-ratelimit-reset-tokens": "6s",
    }


async def test_a_requests_limit_refusal_says_which_limit_and_when_to_retry(controller: AdmissionController) -> None:
    key = make_key(rpm=2)
    for _ in range(2):
        await controller.admit(key=key, model="m", estimated_tokens=1)
    with pytest.raises(RateLimited) as refused:
        await controller.admit(key=key, model="m", estimated_tokens=1)
    error = refused.value
    assert error.limit_kind == "requests"
    assert "requests per min (RPM)" in error.message and "API key oar_abcd1234" in error.message
    assert error.message.endswith("Please try again in 30s.")
    assert error.headers["retry-after"] == "30"
    assert error.headers["x-ratelimit-remaining-requests"] == "0"


async def test_a_tenant_limit_refusal_names_the_tenant(controller: AdmissionController) -> None:
    key = make_key(tenant=Limits(tpm=100))
    with pytest.raises(RateLimited, match=r"by tenant acme on tokens per min \(TPM\): Limit 100") as refused:
        await controller.admit(key=key, model="m", estimated_tokens=60)
        await controller.admit(key=key, model="m", estimated_tokens=60)
    assert refused.value.limit_kind == "tokens"


async def test_too_many_requests_in_flight_is_a_rate_limit(controller: AdmissionController) -> None:
    key = make_key(max_concurrent=1)
    first = await controller.admit(key=key, model="m", estimated_tokens=1)
    with pytest.raises(RateLimited, match="Too many requests in flight"):
        await controller.admit(key=key, model="m", estimated_tokens=1)
    await first.release(used_tokens=1)
    await controller.admit(key=key, model="m", estimated_tokens=1)


async def test_an_exhausted_budget_says_when_it_resets(controller: AdmissionController, settings: Any) -> None:
    settings.TIME_ZONE = "UTC"
    key = make_key(token_budget=50, budget_period="day")
    admission = await controller.admit(key=key, model="m", estimated_tokens=80)
    await admission.release(used_tokens=70)
    with pytest.raises(
        BudgetExhausted,
        match=r"daily token budget of API key oar_abcd1234… \(50 tokens\) "
        r"is spent\. It resets at \d{4}-\d\d-\d\d 00:00 UTC",
    ):
        await controller.admit(key=key, model="m", estimated_tokens=1)


async def test_release_is_idempotent(controller: AdmissionController) -> None:
    key = make_key(token_budget=1000)
    admission = await controller.admit(key=key, model="m", estimated_tokens=100)
    await admission.release(used_tokens=40)
    await admission.release(used_tokens=40)
    assert isinstance(admission.store, MemoryLimitStore) and admission.plan is not None
    label = admission.plan.scopes[0].budget_label
    used = await admission.store.budget_used(tenant_id=key.tenant_id, scope="key", scope_id=key.key_id, label=label)
    assert used == 40


async def test_with_redis_down_rate_limits_fail_open_by_default(controller: AdmissionController, settings: Any) -> None:
    settings.REDIS_URL = UNREACHABLE_REDIS
    admission = await controller.admit(key=make_key(rpm=1), model="m", estimated_tokens=1)
    assert admission.headers is None
    await admission.release(used_tokens=1)


async def test_with_redis_down_rate_limits_can_fail_closed(controller: AdmissionController, settings: Any) -> None:
    settings.REDIS_URL = UNREACHABLE_REDIS
    settings.OARLOCK_RATE_LIMIT_FAIL_OPEN = False
    with pytest.raises(AdmissionUnavailable, match="rate limits are configured to fail closed"):
        await controller.admit(key=make_key(rpm=1), model="m", estimated_tokens=1)


async def test_with_redis_down_budgets_fail_closed(controller: AdmissionController, settings: Any) -> None:
    settings.REDIS_URL = UNREACHABLE_REDIS
    with pytest.raises(AdmissionUnavailable, match="token budgets fail closed"):
        await controller.admit(key=make_key(rpm=1, tenant=Limits(token_budget=10)), model="m", estimated_tokens=1)


class BlinkingStore(MemoryLimitStore):
    """A store whose first ``failures`` releases find Redis unreachable (a restart, a stall)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def release_many(self, releases: Any, *, only_if_reserved: bool = False) -> None:
        if self.failures:
            self.failures -= 1
            raise LimitStoreUnavailable("Redis: connection refused")
        await super().release_many(releases, only_if_reserved=only_if_reserved)


async def test_a_release_that_meets_a_redis_blip_is_retried_and_charges_the_usage(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admission_release, "RELEASE_RETRY_SECONDS", (0.01, 0.01, 0.01))
    store = BlinkingStore(failures=2)
    controller = AdmissionController(store=store)
    key = make_key(token_budget=1000, max_concurrent=1)
    admission = await controller.admit(key=key, model="m", estimated_tokens=300)
    await admission.release(used_tokens=40)
    assert admission.plan is not None
    label = admission.plan.scopes[0].budget_label
    assert await store.budget_used(tenant_id=key.tenant_id, scope="key", scope_id=key.key_id, label=label) == 40
    # The slot is free again: not held until the lease ends.
    await controller.admit(key=key, model="m", estimated_tokens=1)


class SlowAdmitStore(MemoryLimitStore):
    """Takes the slot at once and answers late, like a Redis script whose reply is in flight."""

    async def admit(self, plan: Any) -> Any:
        verdict = await super().admit(plan)
        await asyncio.sleep(0.05)
        return verdict


async def test_a_request_cancelled_during_its_admission_gives_its_slot_back() -> None:
    store = SlowAdmitStore()
    controller = AdmissionController(store=store)
    key = make_key(max_concurrent=1)
    waiting = asyncio.create_task(controller.admit(key=key, model="m", estimated_tokens=1))
    await asyncio.sleep(0.01)
    waiting.cancel()  # the client went away while Redis was admitting it
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.sleep(0.1)
    admission = await controller.admit(key=key, model="m", estimated_tokens=1)
    await admission.release(used_tokens=1)


class LostReplyStore(MemoryLimitStore):
    """Runs the admission, then loses its reply: a command timeout on a busy event loop, or a
    connection Redis cut (a restart) after the script ran."""

    def __init__(self, lost: int) -> None:
        super().__init__()
        self.lost = lost
        self.executed_releases = 0

    async def admit(self, plan: Any) -> Any:
        verdict = await super().admit(plan)
        if self.lost:
            self.lost -= 1
            raise LimitStoreUnavailable("Redis: Timeout reading from socket")
        return verdict

    async def release_many(self, releases: Any, *, only_if_reserved: bool = False) -> None:
        await super().release_many(releases, only_if_reserved=only_if_reserved)
        self.executed_releases += 1
        if self.executed_releases == 1 and any(used_tokens for _, used_tokens in releases):
            raise LimitStoreUnavailable("Redis: Timeout reading from socket")


async def test_an_admission_whose_reply_was_lost_does_not_keep_its_slot(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admission_release, "RELEASE_RETRY_SECONDS", (0.01, 0.01))
    store = LostReplyStore(lost=1)
    controller = AdmissionController(store=store)
    key = make_key(max_concurrent=1)
    # Failed open (no budget on the key): the request is served without a lease of its own.
    unlimited = await controller.admit_call(key=key)
    assert unlimited.plan is None
    await asyncio.sleep(0.05)
    # The slot Redis took for it was given back: the key's next request is admitted.
    admission = await controller.admit_call(key=key)
    await admission.release()


async def test_a_release_whose_reply_was_lost_charges_the_usage_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admission_release, "RELEASE_RETRY_SECONDS", (0.01, 0.01))
    store = LostReplyStore(lost=0)
    controller = AdmissionController(store=store)
    key = make_key(token_budget=1000)
    admission = await controller.admit(key=key, model="m", estimated_tokens=300)
    await admission.release(used_tokens=40)
    assert admission.plan is not None and store.executed_releases == 2
    label = admission.plan.scopes[0].budget_label
    assert await store.budget_used(tenant_id=key.tenant_id, scope="key", scope_id=key.key_id, label=label) == 40


async def test_releases_whose_reply_was_lost_charge_the_usage_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admission_release, "RELEASE_RETRY_SECONDS", (0.01, 0.01))
    store = LostReplyStore(lost=0)
    controller = AdmissionController(store=store)
    key = make_key(max_concurrent=1, token_budget=1000)
    steps = await admitted_in_two_steps(controller, key)
    await release_admissions(steps, used_tokens=40)
    assert store.executed_releases == 2
    assert await _budget_used(store, steps[1], key) == 40
    await (await controller.admit_call(key=key)).release()


async def test_releases_that_never_reach_the_store_are_left_to_their_leases_without_raising(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(admission_release, "RELEASE_RETRY_SECONDS", (0.01, 0.01))
    store = BlinkingStore(failures=99)
    controller = AdmissionController(store=store)
    key = make_key(max_concurrent=1, token_budget=1000)
    steps = await admitted_in_two_steps(controller, key)
    await release_admissions(steps, used_tokens=40)
    assert store.failures == 96 and all(step.released for step in steps)
    plans = [step.plan for step in steps if step.plan is not None]
    # Left for the exit hook to settle (repeat-safe), else their leases end.
    assert {plan.admission_id for plan in plans} <= set(unfinished_releases._pending)
    assert "could not release admission(s) " + ", ".join(plan.admission_id for plan in plans) in caplog.text
    for plan in plans:
        unfinished_releases.done(plan)


def count_release_calls(store: LimitStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many plans each store call released (``release`` would fail the test)."""
    calls: list[int] = []
    release_many = store.release_many

    async def counted(releases: Any, *, only_if_reserved: bool = False) -> None:
        calls.append(len(releases))
        await release_many(releases, only_if_reserved=only_if_reserved)

    monkeypatch.setattr(store, "release_many", counted)
    monkeypatch.setattr(store, "release", None)
    return calls


async def test_a_request_admitted_in_two_steps_releases_both_in_one_store_call(
    store: LimitStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller = AdmissionController(store=store)
    key = make_key(
        rpm=1000, tpm=100_000, max_concurrent=1, token_budget=1000, tenant=Limits(max_concurrent=9, token_budget=9000)
    )
    slots_held = lease_renewal.held
    steps = await admitted_in_two_steps(controller, key)
    assert lease_renewal.held == slots_held + 1
    calls = count_release_calls(store, monkeypatch)
    await release_admissions(steps, used_tokens=40)
    await release_admissions(steps, used_tokens=40)
    await steps[0].release(used_tokens=40)
    assert calls == [2] and all(step.released for step in steps)
    assert lease_renewal.held == slots_held
    assert await _budget_used(store, steps[1], key) == 40
    assert await _budget_used(store, steps[1], key, scope="tenant") == 40
    monkeypatch.undo()
    await (await controller.admit_call(key=key)).release()  # the slot is free


async def test_admissions_without_anything_to_give_back_are_only_marked_released(
    store: LimitStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller = AdmissionController(store=store)
    steps = [
        await controller.admit_call(key=make_key(rpm=1000)),
        await controller.admit_call(key=make_key()),
        Admission(key=make_key(), model="m"),
    ]
    calls = count_release_calls(store, monkeypatch)
    await release_admissions(steps, used_tokens=40)
    assert calls == [] and all(step.released for step in steps)


async def test_admissions_of_two_stores_are_released_in_one_call_each(monkeypatch: pytest.MonkeyPatch) -> None:
    stores = [MemoryLimitStore(), MemoryLimitStore()]
    key = make_key(max_concurrent=1, token_budget=1000)
    steps = [await AdmissionController(store=store).admit(key=key, model="m", estimated_tokens=300) for store in stores]
    calls = [count_release_calls(store, monkeypatch) for store in stores]
    await release_admissions(steps, used_tokens=40)
    assert calls == [[1], [1]]
    for store, step in zip(stores, steps, strict=True):
        assert await _budget_used(store, step, key) == 40


async def _budget_used(store: LimitStore, admission: Admission, key: AuthenticatedKey, *, scope: str = "key") -> int:
    assert admission.plan is not None
    label = admission.plan.scopes[0].budget_label
    scope_id = key.key_id if scope == "key" else key.tenant_id
    return await store.budget_used(tenant_id=key.tenant_id, scope=scope, scope_id=scope_id, label=label)


async def test_a_key_with_a_budget_serves_as_many_requests_at_once_as_its_concurrency_limit(
    controller: AdmissionController,
) -> None:
    key = make_key(max_concurrent=2, token_budget=10_000)
    for _ in range(2):
        await controller.admit_call(key=key)
        await controller.reserve_tokens(key=key, model="m", estimated_tokens=10)
    with pytest.raises(RateLimited, match="Limit 2 at a time"):
        await controller.admit_call(key=key)


async def test_a_slot_is_kept_while_its_request_runs_and_freed_a_lease_after_its_worker_died(
    limits_redis: str, settings: Any
) -> None:
    settings.OARLOCK_SLOT_LEASE_SECONDS = 1
    stores = [RedisLimitStore(limits_redis), RedisLimitStore(limits_redis)]
    worker_a, worker_b = (AdmissionController(store=store) for store in stores)
    key = make_key(max_concurrent=1)
    try:
        streaming = await worker_a.admit_call(key=key)
        await asyncio.sleep(1.5)  # longer than the lease: still in flight, still counted
        with pytest.raises(RateLimited, match="Too many requests in flight"):
            await worker_b.admit_call(key=key)
        assert streaming.plan is not None
        lease_renewal.drop(streaming.plan)  # worker A is killed: nothing renews or releases it
        await asyncio.sleep(1.1)
        admission = await worker_b.admit_call(key=key)
        await admission.release()
    finally:
        for store in stores:
            await store.aclose()
