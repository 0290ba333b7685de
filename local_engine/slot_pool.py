"""Admission to a fixed set of slots, with Paddler's buffering rules (protocol reference 1.6).

A request takes a free slot at once if there is one. Otherwise it waits in a FIFO buffer —
unless the buffer already holds ``max_buffered`` requests (``current >= max``; with 0 nothing
ever waits), which is ``BufferedRequestsOverflow`` (503). A request that waits longer than
``timeout`` seconds gets ``SlotWaitTimedOut`` (504). A waiter that goes away (its task is
cancelled: the client disconnected) simply leaves the buffer.

Everything runs on the event loop; only ``release`` may be called from a loop callback.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import Generic, TypeVar

from local_engine.errors import BufferedRequestsOverflow, SlotWaitTimedOut

SlotT = TypeVar("SlotT")


class SlotPool(Generic[SlotT]):
    def __init__(self, slots: Iterable[SlotT], *, max_buffered: int, timeout: float) -> None:
        self._idle: deque[SlotT] = deque(slots)
        self.size = len(self._idle)
        self._waiters: deque[asyncio.Future[SlotT]] = deque()
        self._max_buffered = max_buffered
        self._timeout = timeout

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    @property
    def buffered_count(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> SlotT:
        if self._idle:
            return self._idle.popleft()
        if len(self._waiters) >= self._max_buffered:
            raise BufferedRequestsOverflow()
        waiter: asyncio.Future[SlotT] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            # asyncio.wait neither cancels the waiter on timeout nor loses a slot handed over
            # at the same moment: whatever happens, _abandon sees the waiter's real state.
            done, _ = await asyncio.wait({waiter}, timeout=self._timeout)
        except asyncio.CancelledError:
            self._abandon(waiter)
            raise
        if not done:
            self._abandon(waiter)
            raise SlotWaitTimedOut()
        return waiter.result()

    def release(self, slot: SlotT) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                return
        self._idle.append(slot)

    def _abandon(self, waiter: asyncio.Future[SlotT]) -> None:
        if waiter.done():
            # A slot was handed to us just as we gave up: pass it on.
            self.release(waiter.result())
            return
        waiter.cancel()
        self._waiters.remove(waiter)
