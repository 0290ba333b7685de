"""Settling the admissions of requests whose worker died before it could release them.

A worker killed mid-request (SIGKILL, OOM) never runs ``Admission.release``: its request slot
and its budget reservation stay taken until the lease ends, and the budget then forgets the
tokens the request really used. The usage in-flight journal keeps each admission's plan; the
next worker to start hands the dead one's plans here with the tokens its record bills.

Settling is safe to repeat: the request slot is removed by id, and a budget is only settled
while the request's reservation is still there (``only_if_reserved``), so a request whose
release did run, or whose reservation an expired lease already gave back, is left alone. The
per-minute token windows are not touched: a dead request's minute is long over.

Called from the usage writer's thread (not an event loop), so it runs its own loop with a
store of its own: the process's store is bound to the server's loop.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.conf import settings

from accounts.limit_store import AdmissionPlan, LimitStoreUnavailable
from accounts.redis_limit_store import RedisLimitStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AbandonedAdmission:
    plan: AdmissionPlan
    used_tokens: int


class UnfinishedReleases:
    """Releases begun but not seen through: a graceful shutdown (Daphne on SIGTERM) cancels
    the open requests and stops its loop while their releases still await Redis. At exit, the
    ones left are settled on a loop of our own (repeat-safe, like every abandoned admission)."""

    def __init__(self) -> None:
        self._pending: dict[str, AbandonedAdmission] = {}
        self._lock = threading.Lock()
        self._hooked = False

    def begin(self, plan: AdmissionPlan, used_tokens: int) -> None:
        with self._lock:
            self._pending[plan.admission_id] = AbandonedAdmission(plan, used_tokens)
            if not self._hooked:
                atexit.register(self.settle_left_overs)
                self._hooked = True

    def done(self, plan: AdmissionPlan) -> None:
        with self._lock:
            self._pending.pop(plan.admission_id, None)

    def settle_left_overs(self) -> int:
        with self._lock:
            left, self._pending = list(self._pending.values()), {}
        if left:
            logger.warning("settling %s admissions whose release was cut short by the shutdown", len(left))
        return settle_abandoned_admissions(left)


unfinished_releases = UnfinishedReleases()


def settle_abandoned_admissions(abandoned: Sequence[AbandonedAdmission]) -> int:
    """Release each plan with its used tokens; returns how many were settled.

    Without Redis the counters lived in the dead process and died with it: nothing to do."""
    if not abandoned or not settings.REDIS_URL:
        return 0
    return asyncio.run(_settle(settings.REDIS_URL, abandoned))


async def _settle(url: str, abandoned: Sequence[AbandonedAdmission]) -> int:
    store = RedisLimitStore(url)
    settled = 0
    try:
        for item in abandoned:
            plan = replace(item.plan, scopes=tuple(replace(scope, tpm=None) for scope in item.plan.scopes))
            try:
                await store.release(plan, used_tokens=max(item.used_tokens, 0), only_if_reserved=True)
            except LimitStoreUnavailable as error:
                # The lease still ends by itself; only the budget's count of this request is lost.
                logger.warning("could not settle abandoned admission %s: %s", plan.admission_id, error)
                continue
            settled += 1
    finally:
        await store.aclose()
    return settled
