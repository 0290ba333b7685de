"""The Paddler cluster beside the monitor: agents, slots busy/total, buffered requests.

When ``PADDLER_MANAGEMENT_URL`` is set, one task per worker follows Paddler's two management
SSE streams (``/api/v1/agents/stream`` and ``/api/v1/buffered_requests/stream``, protocol
reference section 3) and keeps the latest snapshot; the request board publishes it with its
next tick when it changed. A stream that fails is followed again after a pause.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

RETRY_SECONDS = 2.0


class ClusterStatus:
    def __init__(self) -> None:
        self._agents: list[dict[str, Any]] = []
        self._buffered: int | None = None
        self._reachable = False
        self._changed = False
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        base = settings.PADDLER_MANAGEMENT_URL
        if not base or any(not task.done() for task in self._tasks):
            return
        base = base.rstrip("/")
        self._tasks = [
            asyncio.ensure_future(self._follow(f"{base}/api/v1/agents/stream", self._on_agents)),
            asyncio.ensure_future(self._follow(f"{base}/api/v1/buffered_requests/stream", self._on_buffered)),
        ]

    def snapshot(self) -> dict[str, Any]:
        return {
            "reachable": self._reachable,
            "agents": [_agent(agent) for agent in self._agents],
            "slots_busy": sum(int(agent.get("slots_processing") or 0) for agent in self._agents),
            "slots_total": sum(int(agent.get("slots_total") or 0) for agent in self._agents),
            "buffered_requests": self._buffered,
        }

    def take_if_changed(self, *, force: bool = False) -> dict[str, Any] | None:
        if not settings.PADDLER_MANAGEMENT_URL or not (self._changed or force):
            return None
        self._changed = False
        return self.snapshot()

    def _on_agents(self, data: Any) -> None:
        self._agents = [a for a in data.get("agents", []) if isinstance(a, dict)] if isinstance(data, dict) else []

    def _on_buffered(self, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("buffered_requests_current"), int):
            self._buffered = data["buffered_requests_current"]

    async def _follow(self, url: str, apply: Any) -> None:
        while True:
            try:
                async with (
                    httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=None)) as client,
                    client.stream("GET", url) as response,
                ):
                    response.raise_for_status()
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            apply(json.loads(line[5:]))
                            self._reachable, self._changed = True, True
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - unreachable, refused, a bad line: shown, retried
                logger.warning("Paddler management stream %s failed: %s", url, type(error).__name__)
            if self._reachable:
                self._reachable, self._changed = False, True
            await asyncio.sleep(RETRY_SECONDS)


def _agent(agent: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": str(agent.get("name") or agent.get("id") or "?"),
        "slots_busy": int(agent.get("slots_processing") or 0),
        "slots_total": int(agent.get("slots_total") or 0),
        "status": str(agent.get("state_application_status") or ""),
        "issues": len(agent.get("issues") or []),
    }


cluster_status = ClusterStatus()
