"""Request slots renewed while their requests run, so that a short lease bounds a lost one.

A slot (``max_concurrent``) is leased for ``OARLOCK_SLOT_LEASE_SECONDS`` only; this process
pushes the leases of its running requests to a full lease again every third of that, for all
of them in one Redis round trip. A slot whose release never comes — its worker killed, its
release lost to a Redis outage, a window nothing else covers — is then no longer renewed and
stops counting within one lease. Streams longer than the lease keep their slot.

One renewing task per event loop, started with the first slot held on it and ended when it
holds none. A renewal that finds Redis unreachable is retried at the next tick: a slot is lost
only if Redis stays away for a whole lease, when admission fails open anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings

from accounts.limit_store import AdmissionPlan, LimitStore, LimitStoreUnavailable

logger = logging.getLogger(__name__)

# Logging "could not renew" at every tick would flood the log exactly when Redis is down.
UNAVAILABLE_LOG_INTERVAL_SECONDS = 10.0


@dataclass
class _LoopSlots:
    held: dict[str, tuple[LimitStore, AdmissionPlan]] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


class LeaseRenewal:
    def __init__(self) -> None:
        self._loops: dict[asyncio.AbstractEventLoop, _LoopSlots] = {}
        self._unavailable_logged_at = float("-inf")

    def hold(self, store: LimitStore, plan: AdmissionPlan) -> None:
        """Renew ``plan``'s slots until ``drop``; a no-op for a plan without slots."""
        if not plan.holds_slots:
            return
        loop = asyncio.get_running_loop()
        self._forget_closed_loops()
        slots = self._loops.setdefault(loop, _LoopSlots())
        slots.held[plan.admission_id] = (store, plan)
        if slots.task is None or slots.task.done():
            slots.task = loop.create_task(self._renew_while_held(slots), name="lease-renewal")

    def drop(self, plan: AdmissionPlan) -> None:
        for slots in self._loops.values():
            slots.held.pop(plan.admission_id, None)

    @property
    def held(self) -> int:
        return sum(len(slots.held) for slots in self._loops.values())

    async def _renew_while_held(self, slots: _LoopSlots) -> None:
        interval = max(settings.OARLOCK_SLOT_LEASE_SECONDS / 3, 0.05)
        while slots.held:
            await asyncio.sleep(interval)
            await self._renew_once(slots)

    async def _renew_once(self, slots: _LoopSlots) -> None:
        by_store: dict[int, tuple[LimitStore, list[AdmissionPlan]]] = {}
        for store, plan in list(slots.held.values()):
            by_store.setdefault(id(store), (store, []))[1].append(plan)
        for store, plans in by_store.values():
            try:
                await store.renew(plans)
            except LimitStoreUnavailable as error:
                now = time.monotonic()
                if now - self._unavailable_logged_at >= UNAVAILABLE_LOG_INTERVAL_SECONDS:
                    self._unavailable_logged_at = now
                    logger.warning("could not renew %s request slots (%s); retrying", len(plans), error)

    def _forget_closed_loops(self) -> None:
        for loop in [loop for loop in self._loops if loop.is_closed()]:
            del self._loops[loop]


lease_renewal = LeaseRenewal()
