"""The monitor across two Daphne workers sharing PostgreSQL and the Redis channel layer:
the request runs on one worker, the monitor page is served (and its websocket held) by the other."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from accounts.models import Tenant, TenantMembership
from tests.factories import make_api_key
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import slow_stream
from tests.live_server import LiveServer
from tests.monitor.test_monitor_page import StreamInBackground, content_tokens, open_monitor, wait_for_record
from tests.page_browser import start_page_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql") or not settings.REDIS_URL,
        reason="two workers need PostgreSQL and Redis: run with DATABASE_URL=postgres://… REDIS_URL=redis://…",
    ),
]


@pytest.fixture(scope="module")
def two_workers(
    django_db_setup: None, fake_paddler_server: FakePaddlerServer
) -> Iterator[tuple[LiveServer, LiveServer]]:
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    env = {"REDIS_URL": settings.REDIS_URL}
    first = start_page_server(fake_paddler_server.url, env)
    second = start_page_server(fake_paddler_server.url, env)
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
def setup() -> dict[str, Any]:
    tenant = Tenant.objects.create(name="acme")
    dev = User.objects.create_user("dev")
    TenantMembership.objects.create(user=dev, tenant=tenant)
    _, secret = make_api_key(tenant, name="ci", owner=dev)
    return {"root": User.objects.create_user("root", is_staff=True), "secret": secret}


@pytest.fixture
def page_on_second(
    browser: Browser, two_workers: tuple[LiveServer, LiveServer], setup: dict[str, Any]
) -> Iterator[Page]:
    yield from open_monitor(browser, two_workers[1], setup["root"])


def test_a_request_on_one_worker_shows_and_is_cancelled_from_a_page_on_the_other(
    page_on_second: Page,
    two_workers: tuple[LiveServer, LiveServer],
    fake_paddler: FakePaddlerServer,
    setup: dict[str, Any],
) -> None:
    fake_paddler.script(slow_stream(30, 0.05), slow_stream(300, 0.05))
    shown = StreamInBackground(two_workers[0].base_url, setup["secret"])
    row = page_on_second.locator(f'#inflight-table tr[data-request-id="{shown.request_id}"]')
    expect(row).to_contain_text("generating")
    first = content_tokens(page_on_second, shown.request_id)
    page_on_second.wait_for_timeout(600)
    assert content_tokens(page_on_second, shown.request_id) > first
    shown.join()
    finished = page_on_second.locator(f'#finished-table tr[data-request-id="{shown.request_id}"]')
    expect(finished.locator("[data-outcome]")).to_have_text("completed")

    cancelled = StreamInBackground(two_workers[0].base_url, setup["secret"])
    row = page_on_second.locator(f'#inflight-table tr[data-request-id="{cancelled.request_id}"]')
    row.get_by_role("button", name=f"Cancel request {cancelled.request_id}").click()
    assert fake_paddler.wait_for_disconnect()
    cancelled.join()
    finished = page_on_second.locator(f'#finished-table tr[data-request-id="{cancelled.request_id}"]')
    expect(finished.locator("[data-outcome]")).to_have_text("cancelled")
    assert wait_for_record(cancelled.request_id).outcome == "cancelled"
