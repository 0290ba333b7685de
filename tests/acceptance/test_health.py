from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.live_server import LiveServer, free_port


def test_health_reports_a_reachable_upstream(live_server: LiveServer, fake_paddler: object) -> None:
    response = httpx.get(live_server.url + "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["upstreams"] == [
        {"name": "default", "model": "default", "inference_url": fake_paddler.url, "healthy": True}
    ]


def test_health_reports_a_down_upstream_without_failing(
    live_server_factory: Callable[..., LiveServer],
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    server = live_server_factory({"PADDLER_INFERENCE_URL": dead})
    response = httpx.get(server.url + "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["upstreams"][0]["healthy"] is False
