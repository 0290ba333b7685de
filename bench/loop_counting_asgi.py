"""Oarlock's ASGI application with the event loop's iterations counted, for ``loop_iterations``.

Counts, per request, how many times the loop went round (``_run_once``), how many callbacks it
ran, how often it waited on the selector with a timeout (it had nothing ready) and how long each
part took. ``GET /__bench/loop_iterations`` answers the totals since the previous call (and
resets them). The counting wraps asyncio's private ``BaseEventLoop._run_once`` in this process
only: a benchmark tool, never loaded by the product.

    daphne bench.loop_counting_asgi:application
"""

from __future__ import annotations

import time
from asyncio import base_events
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final

from bench.probed_asgi import Receive, Scope, Send, send_json
from oarlock.asgi import application as oarlock_application

PROBE_PATH: Final = "/__bench/loop_iterations"

totals: defaultdict[str, float] = defaultdict(float)
_run_once: Callable[[Any], None] = base_events.BaseEventLoop._run_once  # type: ignore[attr-defined]  # private, on purpose


def _counted_run_once(loop: Any) -> None:
    if not getattr(loop, "_bench_select_counted", False):
        _count_selects(loop)
    totals["iterations"] += 1
    totals["callbacks"] += len(loop._ready)
    started = time.perf_counter()
    _run_once(loop)
    totals["iteration_us"] += (time.perf_counter() - started) * 1e6


def _count_selects(loop: Any) -> None:
    loop._bench_select_counted = True
    selector = loop._selector
    select = selector.select

    def counted_select(timeout: float | None = None) -> Any:
        started = time.perf_counter()
        events = select(timeout)
        if timeout is None or timeout > 0:
            totals["waits"] += 1
            totals["wait_us"] += (time.perf_counter() - started) * 1e6
        return events

    selector.select = counted_select


base_events.BaseEventLoop._run_once = _counted_run_once  # type: ignore[attr-defined]


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http" and scope["path"] == PROBE_PATH:
        counted = dict(totals)
        totals.clear()
        await send_json(send, counted)
        return
    if scope["type"] == "http":
        totals["requests"] += 1
    await oarlock_application(scope, receive, send)
