"""Whether each upstream answers its ``/health``, probed at most once per few seconds.

``GET /health`` is public and load balancers poll it often: without a cache every hit would
fan out one probe per upstream, so anyone could make Oarlock hammer the Paddler balancers.
"""

from __future__ import annotations

import time

from django.conf import settings

from inference.upstream_registry import Upstream, upstream_registry


class UpstreamHealthCache:
    """The last probe result per upstream URL, reused for ``OARLOCK_HEALTH_CACHE_SECONDS``."""

    def __init__(self) -> None:
        self._results: dict[str, tuple[float, bool]] = {}

    async def is_healthy(self, upstream: Upstream) -> bool:
        now = time.monotonic()
        cached = self._results.get(upstream.inference_url)
        if cached is not None and now - cached[0] < settings.OARLOCK_HEALTH_CACHE_SECONDS:
            return cached[1]
        healthy = await upstream_registry.client_for(upstream).check_health()
        self._results[upstream.inference_url] = (time.monotonic(), healthy)
        return healthy


upstream_health = UpstreamHealthCache()
