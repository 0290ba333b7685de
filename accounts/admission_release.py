"""Giving back what admissions took: at the end of a request, and when an admission's answer
was lost or its request was cancelled during the round trip (accounts/admission.py decides).

Every give-back is repeat-safe (``only_if_reserved`` after a first attempt), so a retry after a
lost reply never charges usage twice, and each one is journalled as unfinished until the store
confirms it: what a stopping worker leaves is settled at exit or by the next start
(accounts/abandoned_admission.py), and what that misses ends with its lease.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from accounts.abandoned_admission import unfinished_releases
from accounts.lease_renewal import lease_renewal
from accounts.limit_store import AdmissionPlan, LimitStore, LimitStoreUnavailable, Verdict

if TYPE_CHECKING:
    from accounts.admission import Admission

logger = logging.getLogger(__name__)

# Pauses between attempts of a release that found the limit store unreachable.
RELEASE_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0)
# Give-backs of cancelled admissions still running (a task needs a strong reference).
_GIVING_BACK: set[asyncio.Future[None]] = set()


async def release_admissions(admissions: Sequence[Admission], *, used_tokens: int | None = None) -> None:
    """``Admission.release`` for every admission step of one request, in one store call (one
    Redis round trip). Idempotent; never raises."""
    by_store: dict[int, tuple[LimitStore, list[tuple[AdmissionPlan, int]]]] = {}
    for admission in admissions:
        if admission.released:
            continue
        admission.released = True
        plan, store = admission.plan, admission.store
        if plan is None or store is None or not plan.needs_release:
            continue
        lease_renewal.drop(plan)
        used = admission.reserved_tokens if used_tokens is None else max(used_tokens, 0)
        unfinished_releases.begin(plan, used)
        by_store.setdefault(id(store), (store, []))[1].append((plan, used))
    # One store per process: the steps of a request always share it.
    for store, releases in by_store.values():
        await _release_with_retries(store, releases)


async def _release_with_retries(store: LimitStore, releases: list[tuple[AdmissionPlan, int]]) -> None:
    for attempt, pause in enumerate((*RELEASE_RETRY_SECONDS, None)):
        try:
            # A failed attempt may have run in Redis with its reply lost: a retry settles only
            # a reservation still there, so the usage is never charged twice.
            await store.release_many(releases, only_if_reserved=attempt > 0)
        except LimitStoreUnavailable as error:
            if pause is None:
                # Left unfinished: settled at exit if still reserved, else its lease ends.
                logger.warning(
                    "could not release admission(s) %s after %s attempts (%s); leases end within %ss",
                    ", ".join(plan.admission_id for plan, _ in releases),
                    attempt + 1,
                    error,
                    max(plan.lease_seconds for plan, _ in releases),
                )
                return
            # The client has its answer already: waiting out a Redis blip costs nobody, and a
            # reservation given back by its lease would never charge the usage.
            await asyncio.sleep(pause)
            continue
        break
    # Not in a ``finally``: a release abandoned by a stopping loop must stay unfinished.
    for plan, _ in releases:
        unfinished_releases.done(plan)


async def admit_even_if_cancelled(store: LimitStore, plan: AdmissionPlan) -> Verdict:
    """``store.admit(plan)``; if the request is cancelled meanwhile (client gone, server
    stopping), the admission still completes in Redis and is given back once it has: else its
    request slot stayed taken until the lease ended."""
    task = asyncio.ensure_future(store.admit(plan))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if plan.needs_release:
            unfinished_releases.begin(plan, 0)
            task.add_done_callback(functools.partial(_give_back_if_admitted, store, plan))
        raise


def _give_back_if_admitted(store: LimitStore, plan: AdmissionPlan, task: asyncio.Future[Verdict]) -> None:
    if task.cancelled() or task.exception() is not None or task.result().denial is not None:
        unfinished_releases.done(plan)
        return
    # Kept until done (the loop holds tasks weakly); if the loop stops first, the exit hook
    # settles it.
    give_back = asyncio.ensure_future(_give_back(store, plan))
    _GIVING_BACK.add(give_back)
    give_back.add_done_callback(_GIVING_BACK.discard)


async def _give_back(store: LimitStore, plan: AdmissionPlan) -> None:
    try:
        await store.release(plan, used_tokens=0, only_if_reserved=True)
    except LimitStoreUnavailable:
        return  # left unfinished: settled at exit if still reserved, else its lease ends
    unfinished_releases.done(plan)


def give_back_unanswered(store: LimitStore, plan: AdmissionPlan) -> None:
    """The admission's reply never came, but Redis may have run it (the reply was lost): give
    back whatever it took, in the background (the request's answer does not wait for it).

    Repeat-safe like every give-back; the per-minute token window is left alone (unlike a slot
    or a reservation, a token bucket cannot tell whether this admission ever reached it)."""
    if not plan.needs_release:
        return
    unanswered = replace(plan, scopes=tuple(replace(scope, tpm=None) for scope in plan.scopes))
    if not unanswered.needs_release:
        return
    give_back = asyncio.ensure_future(_give_back_with_retries(store, unanswered))
    _GIVING_BACK.add(give_back)
    give_back.add_done_callback(_GIVING_BACK.discard)


async def _give_back_with_retries(store: LimitStore, plan: AdmissionPlan) -> None:
    for pause in (*RELEASE_RETRY_SECONDS, None):
        try:
            await store.release(plan, used_tokens=0, only_if_reserved=True)
        except LimitStoreUnavailable:
            if pause is None:
                return  # Redis stayed away: the lease ends by itself
            await asyncio.sleep(pause)
            continue
        return
