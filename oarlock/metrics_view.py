"""``GET /metrics``: Prometheus text for the scraper that holds ``OARLOCK_METRICS_TOKEN``.

Unset token: the route does not exist (404), so a deployment that never asked for metrics
exposes nothing. Any other caller: 401. The samples of every worker are summed from the
multiprocess directory when there is one; upstream health is probed at scrape time, as
``/health`` does, so it is fresh and costs nothing between scrapes.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from inference.upstream_registry import upstream_registry


async def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.OARLOCK_METRICS_TOKEN
    if not token:
        raise Http404("metrics are off: set OARLOCK_METRICS_TOKEN")
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("401 Unauthorized: /metrics needs the metrics token.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    health = await _upstream_health()
    # Reading every worker's files is blocking I/O: off the event loop.
    body = await sync_to_async(_exposition, thread_sensitive=False)(health)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def _exposition(health: GaugeMetricFamily) -> bytes:
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus-client has no annotations here
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_Fixed(health))


async def _upstream_health() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "oarlock_upstream_up", "1 when the upstream answers its /health, else 0.", labels=["upstream", "model"]
    )
    try:
        upstreams = await upstream_registry.upstreams()
    except Exception:  # noqa: BLE001 - the registry reads the database: no upstream rows rather than a failed scrape
        return family
    checks = await asyncio.gather(*(upstream_registry.client_for(upstream).check_health() for upstream in upstreams))
    for upstream, healthy in zip(upstreams, checks, strict=True):
        family.add_metric([upstream.name, upstream.model], 1.0 if healthy else 0.0)
    return family


class _Fixed(CollectorRegistry):
    """A registry of already-collected families, for ``generate_latest``."""

    def __init__(self, *families: GaugeMetricFamily) -> None:
        super().__init__(auto_describe=False)
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families
