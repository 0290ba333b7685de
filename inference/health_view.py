"""``GET /health``: the platform is up, and whether each upstream answers its own /health.

Anyone (a load balancer) gets ``{"status": "ok" | "degraded"}`` and nothing else; signed-in staff
also get the database state and each upstream, its URL stripped of any credentials. Upstream
probes are cached for a few seconds (``inference/upstream_health.py``).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.http import HttpRequest, JsonResponse

from inference.upstream_health import upstream_health
from inference.upstream_registry import upstream_registry


async def health(request: HttpRequest) -> JsonResponse:
    try:
        upstreams = await upstream_registry.upstreams()
        database = "ok"
    except Exception:  # noqa: BLE001 - the registry reads the database: report it rather than fail
        upstreams, database = [], "unavailable"
    checks = await asyncio.gather(*(upstream_health.is_healthy(upstream) for upstream in upstreams))
    status = "ok" if database == "ok" and all(checks) and upstreams else "degraded"
    if not await _is_staff(request):
        return JsonResponse({"status": status})
    report = [
        {
            "name": upstream.name,
            "model": upstream.model,
            "inference_url": _without_credentials(upstream.inference_url),
            "healthy": healthy,
        }
        for upstream, healthy in zip(upstreams, checks, strict=True)
    ]
    return JsonResponse({"status": status, "database": database, "upstreams": report})


async def _is_staff(request: HttpRequest) -> bool:
    try:
        user: Any = await request.auser()
    except Exception:  # noqa: BLE001 - the session store (the database) is down: answer as to anyone
        return False
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))
