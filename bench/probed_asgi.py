"""Oarlock's ASGI application with an event-loop lag probe, for the open-streams scenario.

The probe is a task in the server's own event loop that asks to wake every 5 ms and records
how late it actually woke: that delay is exactly what every request on the loop waits for
before it can run. ``GET /__bench/loop_lag`` answers its statistics since the previous call
(and resets them). Everything else goes to ``oarlock.asgi:application`` untouched, so the
product code carries no benchmark hook; the wrapper costs one string comparison per request.

    daphne bench.probed_asgi:application
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from oarlock.asgi import application as oarlock_application

PROBE_PATH: Final = "/__bench/loop_lag"
PROBE_INTERVAL: Final = 0.005
MAX_SAMPLES: Final = 200_000

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class LoopLagProbe:
    def __init__(self) -> None:
        self._lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def ensure_running(self) -> None:
        # Started from the first request: Daphne sends no lifespan event to start it from.
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            planned = time.perf_counter() + PROBE_INTERVAL
            await asyncio.sleep(PROBE_INTERVAL)
            if len(self._lags) < MAX_SAMPLES:
                self._lags.append(max(0.0, time.perf_counter() - planned))

    def take(self) -> dict[str, float]:
        lags, self._lags = sorted(self._lags), []
        if not lags:
            return {"samples": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "mean_ms": 0.0}
        return {
            "samples": len(lags),
            "p50_ms": lags[len(lags) // 2] * 1000,
            "p99_ms": lags[min(len(lags) - 1, int(len(lags) * 0.99))] * 1000,
            "max_ms": lags[-1] * 1000,
            "mean_ms": sum(lags) / len(lags) * 1000,
        }


probe = LoopLagProbe()


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        probe.ensure_running()
        if scope["path"] == PROBE_PATH:
            await send_json(send, probe.take())
            return
    await oarlock_application(scope, receive, send)


async def send_json(send: Send, document: Any) -> None:
    """A probe's answer: ``document`` as a 200 JSON response."""
    body = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
