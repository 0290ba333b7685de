"""The monitor's websocket (``/ws/monitor/``): requests in flight, finished ones, the cluster.

The session authenticates the socket (``AuthMiddlewareStack`` in ``oarlock/asgi.py``); the role
is checked at connect and again for every group joined (``MonitorViewer.may_join``), and every
event is filtered once more before it is sent, so a page never receives what its viewer may not
see. The browser may send one thing: ``{"type": "cancel", "request_id": ...}``.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from monitor.monitor_groups import CONTROL
from monitor.monitor_viewer import MonitorViewer, monitor_viewer
from monitor.request_board import request_board

# Close codes (4000-4999 are the application's): not signed in, signed in but no access.
UNAUTHENTICATED = 4401
FORBIDDEN = 4403
# How many request owners to remember for cancel checks before starting over.
MAX_REMEMBERED = 5000


class MonitorConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels has no type hints
    viewer: MonitorViewer | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        viewer = None if user is None else await database_sync_to_async(monitor_viewer)(user)
        if viewer is None or not viewer.may_watch:
            await self.close(code=UNAUTHENTICATED if viewer is None else FORBIDDEN)
            return
        self.viewer = viewer
        self.joined: list[str] = []
        self.owners: dict[str, tuple[int, int | None]] = {}
        await self.accept()
        for group in viewer.groups():
            if viewer.may_join(group):
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)
        await self.send_json({"type": "hello", "username": viewer.username, "role": viewer.role})
        # The board also follows the Paddler cluster: a page opened before any request wants it.
        request_board.ensure_running()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "cancel":
            return
        request_id = str(content.get("request_id", ""))
        known = self.owners.get(request_id)
        assert self.viewer is not None
        # Unknown requests are refused like forbidden ones: a guess learns nothing.
        if known is None or not self.viewer.may_cancel(owner_id=known[1]):
            await self.send_json({"type": "cancel_refused", "request_id": request_id})
            return
        await self.channel_layer.group_send(
            CONTROL, {"type": "monitor.cancel", "request_id": request_id, "by": self.viewer.username}
        )
        await self.send_json({"type": "cancel_sent", "request_id": request_id})

    async def monitor_events(self, message: dict[str, Any]) -> None:
        assert self.viewer is not None
        visible = [
            event
            for event in message["events"]
            if self.viewer.may_see(tenant_id=event["tenant_id"], owner_id=event["owner_id"])
        ]
        if not visible:
            return
        if len(self.owners) > MAX_REMEMBERED:
            self.owners.clear()
        for event in visible:
            self.owners[event["request_id"]] = (event["tenant_id"], event["owner_id"])
        await self.send_json({"type": "events", "events": visible})

    async def monitor_cluster(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "cluster", "cluster": message["cluster"]})
