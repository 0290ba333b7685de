"""The monitor page in a real browser: requests made by another client (the openai SDK) appear,
grow, finish with their outcome; staff cancel a request from the page."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from accounts.models import ApiKey, Tenant, TenantMembership
from tests.browser import check_page
from tests.factories import make_api_key
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import slow_stream
from tests.live_server import LiveServer
from tests.page_browser import signed_in_page
from usage.models import UsageRecord

pytestmark = pytest.mark.django_db(transaction=True)
USER = [{"role": "user", "content": "Hi"}]


class StreamInBackground:
    """A streaming chat request by the openai SDK, consumed on a thread; knows its x-request-id."""

    def __init__(self, base_url: str, secret: str) -> None:
        self.client = openai.OpenAI(base_url=base_url, api_key=secret, max_retries=0, timeout=30)
        raw = self.client.chat.completions.with_raw_response.create(model="default", messages=USER, stream=True)
        self.request_id = raw.headers["x-request-id"]
        self.text = ""
        self.error: BaseException | None = None
        self._stream = raw.parse()
        self._thread = threading.Thread(target=self._consume, daemon=True)
        self._thread.start()

    def _consume(self) -> None:
        try:
            for chunk in self._stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    self.text += chunk.choices[0].delta.content
        except BaseException as error:  # noqa: BLE001 - kept: what the client saw is asserted on
            self.error = error

    def join(self, timeout: float = 15.0) -> None:
        self._thread.join(timeout)
        self.client.close()


@pytest.fixture
def people() -> dict[str, Any]:
    acme = Tenant.objects.create(name="acme")
    dev = User.objects.create_user("dev")
    TenantMembership.objects.create(user=dev, tenant=acme)
    key, secret = make_api_key(acme, name="ci", owner=dev)
    return {"root": User.objects.create_user("root", is_staff=True), "dev": dev, "key": key, "secret": secret}


def wait_for_record(request_id: str, timeout: float = 10.0) -> UsageRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = UsageRecord.objects.filter(request_id=request_id).first()
        if record is not None:
            return record
        time.sleep(0.1)
    raise AssertionError(f"no usage record for {request_id}")


def open_monitor(browser: Browser, server: LiveServer, user: User) -> Iterator[Page]:
    context, page = signed_in_page(browser, server.url, user)
    page.goto(server.url + "/monitor/")
    expect(page.locator("#monitor-status")).to_have_text("live")
    yield page
    context.close()


@pytest.fixture
def staff_page(browser: Browser, page_server: LiveServer, people: dict[str, Any]) -> Iterator[Page]:
    yield from open_monitor(browser, page_server, people["root"])


def content_tokens(page: Page, request_id: str) -> int:
    cell = page.locator(f'#inflight-table tr[data-request-id="{request_id}"] [data-role="content-tokens"]')
    return int(cell.inner_text())


def test_an_sdk_request_appears_grows_and_finishes_with_its_outcome(
    staff_page: Page, page_server: LiveServer, fake_paddler: FakePaddlerServer, people: dict[str, Any]
) -> None:
    fake_paddler.script(slow_stream(40, 0.1))
    request = StreamInBackground(page_server.base_url, people["secret"])
    row = staff_page.locator(f'#inflight-table tr[data-request-id="{request.request_id}"]')
    expect(row).to_contain_text("generating")
    expect(row).to_contain_text("dev")  # the person whose key it is
    first = content_tokens(staff_page, request.request_id)
    staff_page.wait_for_timeout(700)
    assert content_tokens(staff_page, request.request_id) > first  # updates while it streams
    expect(staff_page.locator("#model-table tr[data-model='default']")).to_contain_text("1")
    check_page(staff_page, "monitor")
    request.join()
    finished = staff_page.locator(f'#finished-table tr[data-request-id="{request.request_id}"]')
    expect(finished.locator("[data-outcome]")).to_have_text("completed")
    expect(row).to_have_count(0)
    assert request.text.endswith("tok39")


def test_staff_cancel_stops_the_upstream_and_records_cancelled(
    staff_page: Page, page_server: LiveServer, fake_paddler: FakePaddlerServer, people: dict[str, Any]
) -> None:
    fake_paddler.script(slow_stream(200, 0.05))
    request = StreamInBackground(page_server.base_url, people["secret"])
    row = staff_page.locator(f'#inflight-table tr[data-request-id="{request.request_id}"]')
    row.get_by_role("button", name=f"Cancel request {request.request_id}").click()
    assert fake_paddler.wait_for_disconnect()
    request.join()
    finished = staff_page.locator(f'#finished-table tr[data-request-id="{request.request_id}"]')
    expect(finished.locator("[data-outcome]")).to_have_text("cancelled")
    record = wait_for_record(request.request_id)
    assert (record.outcome, record.error_class) == ("cancelled", "CancelledFromMonitor")
    assert record.completion_tokens < 200


def test_a_member_sees_their_own_request_but_not_a_colleagues(
    browser: Browser, page_server: LiveServer, fake_paddler: FakePaddlerServer, people: dict[str, Any]
) -> None:
    colleague = User.objects.create_user("colleague")
    TenantMembership.objects.create(user=colleague, tenant=people["key"].tenant)
    pages = {
        name: open_monitor(browser, page_server, user)
        for name, user in (("dev", people["dev"]), ("colleague", colleague))
    }
    dev_page, colleague_page = next(pages["dev"]), next(pages["colleague"])
    fake_paddler.script(slow_stream(20, 0.05))
    request = StreamInBackground(page_server.base_url, people["secret"])
    expect(dev_page.locator(f'#finished-table tr[data-request-id="{request.request_id}"]')).to_be_visible()
    request.join()
    assert colleague_page.locator(f'[data-request-id="{request.request_id}"]').count() == 0
    for generator in pages.values():
        next(generator, None)
    assert isinstance(people["key"], ApiKey)
