"""The per-process board of requests in flight, published to the monitor a few times a second.

The request path only touches a dict twice per request (``meter_started``/``meter_finished``,
called by the usage meter). One task per worker process — started with the first request —
wakes every ``FLUSH_SECONDS``, reads each live meter's counters and sends ONE message per
channel-layer group with every request that changed: a thousand open streams make four group
messages a second, not a thousand per token. The same task listens on the ``CONTROL`` group for
cancellations, so a monitor served by one worker can stop a request running on another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from channels.layers import get_channel_layer

from monitor.cluster_status import cluster_status
from monitor.monitor_groups import CLUSTER, CONTROL, groups_of_request
from monitor.request_event import finished_event, live_event
from usage.usage_meter import UsageMeter

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.25
# Unchanged requests are sent again this often, so a page opened mid-request fills in.
RESEND_SECONDS = 2.0


@dataclass
class _Tracked:
    meter: UsageMeter
    task: asyncio.Task[Any] | None
    last_sent: tuple[Any, ...] | None = None


class RequestBoard:
    def __init__(self) -> None:
        self._live: dict[str, _Tracked] = {}
        # Finished meters; their events are built by the board's task, off the request path.
        self._finished: list[UsageMeter] = []
        self._runner: asyncio.Task[None] | None = None
        self._last_full = 0.0

    # --- called by the usage meter (usage.meter_watch) -------------------------------------

    def meter_started(self, meter: UsageMeter) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a meter built outside a server (unit tests, commands)
            return
        self._live[meter.request_id] = _Tracked(meter, asyncio.current_task())
        self.ensure_running(loop)

    def ensure_running(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start the board's task in this process (the first request or monitor page does)."""
        loop = loop or asyncio.get_running_loop()
        if self._runner is None or self._runner.done() or self._runner.get_loop() is not loop:
            self._runner = loop.create_task(self._run(), name="monitor request board")

    def meter_finished(self, meter: UsageMeter) -> None:
        if self._live.pop(meter.request_id, None) is not None:
            self._finished.append(meter)

    # --- the board's own task ---------------------------------------------------------------

    @property
    def live_request_ids(self) -> list[str]:
        return list(self._live)

    def cancel(self, request_id: str, *, by: str) -> bool:
        """Stop a request running in this process; its meter records ``cancelled``."""
        tracked = self._live.get(request_id)
        if tracked is None:
            return False
        logger.info("request cancelled from the monitor request_id=%s by=%s", request_id, by)
        tracked.meter.finish(outcome="cancelled", http_status=499, error="CancelledFromMonitor")
        if tracked.task is not None:
            # Cancelling the task that serves the request closes its upstream response, which
            # is how Paddler learns to stop generating (see compat_api.api_consumer).
            tracked.task.cancel()
        return True

    async def _run(self) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        listener = asyncio.ensure_future(self._listen(layer))
        cluster_status.start()
        try:
            while True:
                await asyncio.sleep(FLUSH_SECONDS)
                try:
                    await self._flush(layer)
                except Exception:  # the next tick tries again; never crash the loop
                    logger.exception("publishing monitor events failed")
        finally:
            listener.cancel()

    async def _flush(self, layer: Any) -> None:
        now = time.monotonic()
        resend = now - self._last_full >= RESEND_SECONDS
        if resend:
            self._last_full = now
        by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for tracked in list(self._live.values()):
            event = live_event(tracked.meter, now)
            signature = (event["state"], event["reasoning_tokens"], event["content_tokens"], event["model"])
            if not resend and signature == tracked.last_sent:
                continue
            tracked.last_sent = signature
            _add(by_group, event)
        finished, self._finished = self._finished, []
        for meter in finished:
            _add(by_group, finished_event(meter))
        for group, events in by_group.items():
            await layer.group_send(group, {"type": "monitor.events", "events": events})
        snapshot = cluster_status.take_if_changed(force=resend)
        if snapshot is not None:
            await layer.group_send(CLUSTER, {"type": "monitor.cluster", "cluster": snapshot})

    async def _listen(self, layer: Any) -> None:
        # A plain channel name, not a process-specific "...!..." one: channels_redis serialises
        # all receives on specific channels of a process behind one lock, and this receive,
        # waiting forever, starved the websocket consumers of the same worker.
        channel = f"monitor.worker.{uuid.uuid4().hex}"
        await layer.group_add(CONTROL, channel)
        try:
            while True:
                message = await layer.receive(channel)
                if message.get("type") == "monitor.cancel":
                    self.cancel(str(message.get("request_id", "")), by=str(message.get("by", "")))
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await layer.group_discard(CONTROL, channel)
            raise


def _add(by_group: dict[str, list[dict[str, Any]]], event: dict[str, Any]) -> None:
    for group in groups_of_request(tenant_id=event["tenant_id"], owner_id=event["owner_id"]):
        by_group[group].append(event)


request_board = RequestBoard()
