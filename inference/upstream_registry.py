"""Model name → upstream. The default upstream comes from settings; named ones from the database.

The table is read from the database at most every ``OARLOCK_UPSTREAM_REFRESH_SECONDS`` per process (and at once
after a change made in this process), so routing costs no query per request. One
``PaddlerClient`` per inference URL, owned here and closed at shutdown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

from channels.db import database_sync_to_async
from django.conf import settings

from inference.errors import ModelNotFound
from inference.models import Upstream as UpstreamRow
from inference.paddler_client import PaddlerClient

DEFAULT_UPSTREAM_NAME: Final = "default"


@dataclass(frozen=True, slots=True)
class Upstream:
    name: str
    model: str
    inference_url: str
    created: int
    # The local engine that ``make serve`` started and restarts (OARLOCK_LOCAL_ENGINE=1).
    local_engine: bool = False


@dataclass(frozen=True, slots=True)
class ModelEntry:
    id: str
    created: int
    owned_by: str = "oarlock"


class UpstreamRegistry:
    def __init__(self) -> None:
        self._routes: dict[str, Upstream] = {}
        self._models: list[Upstream] = []
        self._loaded_at = float("-inf")
        self._clients: dict[str, PaddlerClient] = {}

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    async def resolve(self, model: str) -> Upstream:
        await self._refresh()
        upstream = self._routes.get(model)
        if upstream is None:
            raise ModelNotFound(model)
        return upstream

    async def upstreams(self) -> list[Upstream]:
        await self._refresh()
        return list(self._models)

    async def list_models(self) -> list[ModelEntry]:
        return [ModelEntry(id=u.model, created=u.created) for u in await self.upstreams()]

    def client_for(self, upstream: Upstream) -> PaddlerClient:
        client = self._clients.get(upstream.inference_url)
        if client is None:
            client = PaddlerClient(
                upstream.inference_url,
                connect_timeout=settings.OARLOCK_UPSTREAM_CONNECT_TIMEOUT,
                read_timeout=settings.OARLOCK_UPSTREAM_READ_TIMEOUT,
                local_engine=upstream.local_engine,
            )
            self._clients[upstream.inference_url] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    async def _refresh(self) -> None:
        if time.monotonic() - self._loaded_at < settings.OARLOCK_UPSTREAM_REFRESH_SECONDS:
            return
        rows: list[UpstreamRow] = await database_sync_to_async(_enabled_rows)()
        routes: dict[str, Upstream] = {}
        models: list[Upstream] = []
        default_url = settings.PADDLER_INFERENCE_URL
        if default_url:
            default = Upstream(
                name=DEFAULT_UPSTREAM_NAME,
                model=settings.OARLOCK_DEFAULT_MODEL,
                inference_url=default_url,
                created=0,
                local_engine=settings.OARLOCK_LOCAL_ENGINE,
            )
            for name in (default.model, *settings.OARLOCK_DEFAULT_MODEL_ALIASES):
                routes[name] = default
            models.append(default)
        for row in rows:
            upstream = Upstream(
                name=row.model_name,
                model=row.model_name,
                inference_url=row.inference_url.rstrip("/"),
                created=int(row.created_at.timestamp()),
            )
            models.append(upstream)
            for name in (row.model_name, *(row.aliases or ())):
                routes[name] = upstream
        self._routes, self._models = routes, models
        self._loaded_at = time.monotonic()


def _enabled_rows() -> list[UpstreamRow]:
    return list(UpstreamRow.objects.filter(is_enabled=True))


upstream_registry = UpstreamRegistry()
