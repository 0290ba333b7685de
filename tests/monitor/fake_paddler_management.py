"""A scripted stand-in for Paddler's management service: the two SSE status streams the
monitor follows (``/api/v1/agents/stream``, ``/api/v1/buffered_requests/stream``)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from typing import Any

import uvicorn


class FakePaddlerManagement:
    def __init__(self) -> None:
        self._state: dict[str, Any] = {"agents": [], "buffered": 0}
        self._version = 0
        self._server: uvicorn.Server | None = None
        self.url = ""

    def set(self, *, agents: list[dict[str, Any]], buffered: int) -> None:
        self._state = {"agents": agents, "buffered": buffered}
        self._version += 1

    def start(self) -> FakePaddlerManagement:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        config = uvicorn.Config(
            self._app,
            interface="asgi3",
            http="h11",
            ws="none",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, kwargs={"sockets": [listener]}, daemon=True).start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = self._server.force_exit = True

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path not in ("/api/v1/agents/stream", "/api/v1/buffered_requests/stream"):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        sent = -1
        while True:
            if sent != self._version:
                sent = self._version
                if path.startswith("/api/v1/agents"):
                    data = {"agents": self._state["agents"]}
                else:
                    data = {"buffered_requests_current": self._state["buffered"]}
                await send(
                    {"type": "http.response.body", "body": f"data: {json.dumps(data)}\n\n".encode(), "more_body": True}
                )
            await asyncio.sleep(0.05)


def agent(name: str, busy: int, total: int) -> dict[str, Any]:
    """An agent as Paddler's AgentControllerPoolSnapshot shows it (protocol reference 3)."""
    return {
        "desired_slots_total": total,
        "download_current": 0,
        "download_filename": None,
        "download_indeterminate": False,
        "download_total": 0,
        "id": f"id-{name}",
        "issues": [],
        "model_path": "/models/m.gguf",
        "name": name,
        "slots_processing": busy,
        "slots_total": total,
        "state_application_status": "Applied",
        "uses_chat_template_override": False,
    }
