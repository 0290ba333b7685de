from __future__ import annotations

import asyncio

import pytest

from local_engine.errors import BufferedRequestsOverflow, SlotWaitTimedOut
from local_engine.slot_pool import SlotPool


async def test_a_free_slot_is_taken_at_once() -> None:
    pool = SlotPool(["a", "b"], max_buffered=0, timeout=1)
    assert [await pool.acquire(), await pool.acquire()] == ["a", "b"]


async def test_with_no_buffer_a_request_without_a_free_slot_overflows() -> None:
    pool = SlotPool(["a"], max_buffered=0, timeout=1)
    await pool.acquire()
    with pytest.raises(BufferedRequestsOverflow):
        await pool.acquire()


async def test_a_full_buffer_overflows_the_next_request() -> None:
    pool = SlotPool(["a"], max_buffered=1, timeout=5)
    await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    with pytest.raises(BufferedRequestsOverflow):
        await pool.acquire()
    waiting.cancel()


async def test_buffered_requests_get_released_slots_in_arrival_order() -> None:
    pool = SlotPool(["a"], max_buffered=2, timeout=5)
    await pool.acquire()
    first = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    second = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    pool.release("a")
    assert await first == "a"
    assert not second.done()
    pool.release("a")
    assert await second == "a"


async def test_a_request_waiting_past_the_timeout_is_refused_and_leaves_the_buffer() -> None:
    pool = SlotPool(["a"], max_buffered=1, timeout=0.05)
    await pool.acquire()
    with pytest.raises(SlotWaitTimedOut):
        await pool.acquire()
    assert pool.buffered_count == 0


async def test_a_cancelled_waiter_leaves_the_buffer_and_the_slot_goes_back_to_idle() -> None:
    pool = SlotPool(["a"], max_buffered=1, timeout=5)
    await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    pool.release("a")
    assert (pool.buffered_count, pool.idle_count) == (0, 1)
