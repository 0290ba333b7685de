"""The Paddler cluster beside the monitor, read from Paddler's management streams."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, expect

from tests.fake_paddler import FakePaddlerServer
from tests.live_server import LiveServer
from tests.monitor.fake_paddler_management import FakePaddlerManagement, agent
from tests.monitor.test_monitor_page import open_monitor
from tests.page_browser import start_page_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def management() -> Iterator[FakePaddlerManagement]:
    fake = FakePaddlerManagement().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server_with_management(
    django_db_setup: None, fake_paddler_server: FakePaddlerServer, management: FakePaddlerManagement
) -> Iterator[LiveServer]:
    server = start_page_server(fake_paddler_server.url, {"PADDLER_MANAGEMENT_URL": management.url})
    yield server
    server.stop()


def test_agents_slots_and_buffered_requests_follow_paddler(
    browser: Browser, server_with_management: LiveServer, management: FakePaddlerManagement
) -> None:
    management.set(agents=[agent("gpu-1", 1, 4)], buffered=0)
    root = User.objects.create_user("root", is_staff=True)
    page = next(open_monitor(browser, server_with_management, root))
    summary = page.locator("#cluster-summary")
    expect(summary).to_have_text("1 agent(s), slots busy 1 / 4, buffered requests 0")
    management.set(agents=[agent("gpu-1", 4, 4), agent("gpu-2", 2, 2)], buffered=3)
    expect(summary).to_have_text("2 agent(s), slots busy 6 / 6, buffered requests 3")
    expect(page.locator("#agent-table tbody tr")).to_have_count(2)
    expect(page.locator("#agent-table")).to_contain_text("gpu-2")
