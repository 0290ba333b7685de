"""``GET /health``: the platform is up, and whether each upstream answers its own /health."""

from __future__ import annotations

import asyncio

from django.http import HttpRequest, JsonResponse

from inference.upstream_registry import upstream_registry


async def health(request: HttpRequest) -> JsonResponse:
    try:
        upstreams = await upstream_registry.upstreams()
        database = "ok"
    except Exception:  # the registry reads the database: report it rather than fail
        upstreams, database = [], "unavailable"
    checks = await asyncio.gather(
        *(upstream_registry.client_for(upstream).check_health() for upstream in upstreams)
    )
    report = [
        {
            "name": upstream.name,
            "model": upstream.model,
            "inference_url": upstream.inference_url,
            "healthy": healthy,
        }
        for upstream, healthy in zip(upstreams, checks, strict=True)
    ]
    status = "ok" if database == "ok" and all(checks) and upstreams else "degraded"
    return JsonResponse({"status": status, "database": database, "upstreams": report})
