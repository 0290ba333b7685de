"""``/health``: ok/degraded for anyone, the detail for signed-in staff, upstream probes cached."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from django.contrib.auth import get_user_model

from tests.acceptance.admin_sign_in import signed_in_browser
from tests.live_server import LiveServer, free_port


class CountingUpstream:
    """A stand-in Paddler that answers ``GET /health`` and counts the probes."""

    def __init__(self) -> None:
        self.probes = 0
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                upstream.probes += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def counting_upstream() -> Iterator[CountingUpstream]:
    upstream = CountingUpstream()
    yield upstream
    upstream.server.shutdown()


@pytest.fixture
def staff_user(transactional_db: None) -> None:
    get_user_model().objects.create_user("ops", password="ops-password", is_staff=True)


def test_anyone_gets_only_the_status(live_server: LiveServer, fake_paddler: object) -> None:
    response = httpx.get(live_server.url + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_staff_get_each_upstream(live_server: LiveServer, fake_paddler: object, staff_user: None) -> None:
    browser = signed_in_browser(live_server, "ops", "ops-password")
    body = browser.get("/health").json()
    browser.close()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["upstreams"] == [
        {"name": "default", "model": "default", "inference_url": fake_paddler.url, "healthy": True}
    ]


def test_upstream_credentials_are_shown_to_nobody(
    live_server_factory: Callable[..., LiveServer], counting_upstream: CountingUpstream, staff_user: None
) -> None:
    server = live_server_factory({"PADDLER_INFERENCE_URL": f"http://paddler:s3cret@127.0.0.1:{counting_upstream.port}"})
    anonymous = httpx.get(server.url + "/health")
    assert anonymous.json() == {"status": "ok"}
    browser = signed_in_browser(server, "ops", "ops-password")
    detail = browser.get("/health")
    browser.close()
    assert detail.json()["upstreams"][0]["inference_url"] == f"http://127.0.0.1:{counting_upstream.port}"
    assert "s3cret" not in anonymous.text + detail.text


def test_a_down_upstream_is_degraded_without_failing(live_server_factory: Callable[..., LiveServer]) -> None:
    server = live_server_factory({"PADDLER_INFERENCE_URL": f"http://127.0.0.1:{free_port()}"})
    response = httpx.get(server.url + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded"}


def test_upstream_probes_are_cached_not_one_per_hit(
    live_server_factory: Callable[..., LiveServer], counting_upstream: CountingUpstream
) -> None:
    server = live_server_factory(
        {
            "PADDLER_INFERENCE_URL": f"http://127.0.0.1:{counting_upstream.port}",
            "OARLOCK_HEALTH_CACHE_SECONDS": "30",
        }
    )
    before = counting_upstream.probes
    for _ in range(20):
        assert httpx.get(server.url + "/health").json() == {"status": "ok"}
    assert counting_upstream.probes - before <= 1
