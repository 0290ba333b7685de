"""The playground in a real browser, against live Daphne and the scripted fake Paddler."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from accounts.models import Tenant, TenantMembership
from inference.models import Upstream
from playground.models import PlaygroundKey
from tests.browser import check_page
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import one_tool_call, plain_content, reasoning_then_content, slow_stream
from tests.live_server import LiveServer
from tests.page_browser import signed_in_page
from usage.models import UsageRecord

pytestmark = pytest.mark.django_db(transaction=True)

WEATHER_TOOL = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture
def pat() -> User:
    user = User.objects.create_user("pat", password="unused-here")
    TenantMembership.objects.create(user=user, tenant=Tenant.objects.create(name="acme"))
    return user


@pytest.fixture
def page(browser: Browser, page_server: LiveServer, pat: User, fake_paddler: FakePaddlerServer) -> Iterator[Page]:
    context, tab = signed_in_page(browser, page_server.url, pat)
    tab.goto(page_server.url + "/playground/")
    expect(tab.get_by_label("Model", exact=True)).to_have_value("default")
    yield tab
    context.close()


def send(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send").click()


def wait_for_usage(user: User, request_count: int, timeout: float = 10.0) -> list[UsageRecord]:
    """The usage records of ``user``'s playground key (not a late record of an earlier test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        keys = PlaygroundKey.objects.filter(user=user).values_list("api_key_id", flat=True)
        records = list(UsageRecord.objects.filter(api_key_id__in=list(keys)).order_by("started_at"))
        if len(records) >= request_count:
            return records
        time.sleep(0.1)
    raise AssertionError(f"expected {request_count} usage records, got {UsageRecord.objects.count()}")


def test_an_answer_streams_token_by_token_and_shows_on_the_usage_page(
    page: Page, fake_paddler: FakePaddlerServer, pat: User
) -> None:
    fake_paddler.script(slow_stream(20, 0.1, token="w"))
    send(page, "Count for me")
    answer = page.locator('[data-role="assistant"]')
    expect(answer).to_contain_text("w3")
    partial = answer.inner_text()
    assert "w19" not in partial  # the first tokens were on screen before the last was sent
    expect(answer).to_contain_text("w19")
    expect(page.locator(".turn-meta")).to_contain_text("TTFT")
    expect(page.locator(".turn-meta")).to_contain_text("completion 20")
    assert fake_paddler.last_body is not None
    record = wait_for_usage(pat, 1)[0]
    playground_key = PlaygroundKey.objects.get(user=pat).api_key
    assert (record.api_key_id, record.completion_tokens, record.outcome) == (playground_key.pk, 20, "completed")
    assert playground_key.owner == pat and playground_key.name == "Playground"
    check_page(page, "playground")
    page.goto(page.url.replace("/playground/", "/usage/"))  # the person's own usage page
    expect(page.locator("#usage-by-key")).to_contain_text("Playground")
    expect(page.locator('[data-total="completion_tokens"]')).to_have_text("20")
    expect(page.locator('[data-total="total_tokens"]')).to_have_text("32")


def test_reasoning_is_shown_apart_with_its_token_count(page: Page, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(reasoning_then_content(["Let", " me", " think"], ["Four", "."]))
    send(page, "2+2?")
    expect(page.locator('[data-role="assistant"]')).to_have_text("Four.")
    reasoning = page.locator('[data-role="reasoning"]')
    expect(reasoning).to_have_text("Let me think")
    expect(page.locator("details.reasoning summary")).to_contain_text("3 tokens")
    assert "think" not in page.locator('[data-role="assistant"]').inner_text()


def test_a_tool_call_round_trip(page: Page, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(one_tool_call("get_weather", {"city": "Paris"}), plain_content("Sunny", " in Paris"))
    page.get_by_label("Tools (JSON)").fill(json.dumps(WEATHER_TOOL))
    send(page, "Weather in Paris?")
    expect(page.locator(".tool-call pre")).to_contain_text('get_weather({"city":"Paris"})')
    page.get_by_label("Result of get_weather").fill('{"sky": "sunny"}')
    page.get_by_role("button", name="Send result").click()
    expect(page.locator('[data-role="assistant"]').last).to_have_text("Sunny in Paris")
    history = fake_paddler.last_body["conversation_history"]
    assert any(m.get("role") == "tool" and "sunny" in json.dumps(m) for m in history)


def test_responses_mode_continues_the_conversation(page: Page, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(plain_content("Hi", " Ann"), plain_content("You", " are", " Ann"))
    page.get_by_label("API").select_option("responses")
    send(page, "I am Ann")
    expect(page.locator('[data-role="assistant"]')).to_have_text("Hi Ann")
    send(page, "Who am I?")
    expect(page.locator('[data-role="assistant"]').last).to_have_text("You are Ann")
    history = json.dumps(fake_paddler.last_body["conversation_history"])
    assert "I am Ann" in history and "Hi Ann" in history  # chained by previous_response_id
    page.get_by_text("View code").click()
    expect(page.locator("#pg-code-text")).to_contain_text('"previous_response_id": "resp_')


def test_two_models_side_by_side(page: Page, fake_paddler: FakePaddlerServer, pat: User) -> None:
    Upstream.objects.create(model_name="second-model", inference_url=fake_paddler.url)
    page.reload()
    fake_paddler.script(plain_content("One"), plain_content("Two"))
    page.get_by_label("Compare side by side").check()
    page.get_by_label("Second model").select_option("second-model")
    send(page, "Hello both")
    columns = page.locator(".column")
    expect(columns).to_have_count(2)
    expect(columns.nth(0).locator('[data-role="assistant"]')).not_to_be_empty()
    expect(columns.nth(1).locator('[data-role="assistant"]')).not_to_be_empty()
    answers = {columns.nth(i).locator('[data-role="assistant"]').inner_text() for i in range(2)}
    assert answers == {"One", "Two"}
    models = {r.model for r in wait_for_usage(pat, 2)}
    assert models == {"default", "second-model"}
    check_page(page, "playground-compare")


def test_stop_cancels_the_upstream_and_the_record_says_so(
    page: Page, fake_paddler: FakePaddlerServer, pat: User
) -> None:
    fake_paddler.script(slow_stream(200, 0.05))
    send(page, "Go on forever")
    expect(page.locator('[data-role="assistant"]')).to_contain_text("tok2")
    page.get_by_role("button", name="Stop").click()
    assert fake_paddler.wait_for_disconnect()
    expect(page.locator(".turn-meta")).to_contain_text("stopped")
    record = wait_for_usage(pat, 1)[0]
    assert record.outcome == "client_disconnected" and 0 < record.completion_tokens < 200


def test_view_code_shows_the_exact_request(page: Page, fake_paddler: FakePaddlerServer) -> None:
    page.get_by_label("System prompt").fill("Be brief.")
    page.get_by_label("Max tokens").fill("64")
    page.get_by_label("Reasoning").select_option("none")
    page.get_by_label("Message").fill("Hi")
    page.get_by_text("View code").click()
    code = page.locator("#pg-code-text")
    expect(code).to_contain_text("curl http://127.0.0.1")
    expect(code).to_contain_text('"reasoning_effort": "none"')
    expect(code).to_contain_text('"max_tokens": 64')
    page.get_by_role("tab", name="Python").click()
    expect(code).to_contain_text("client.chat.completions.create(")
    expect(code).to_contain_text("stream=True")
    page.get_by_role("tab", name="JavaScript").click()
    expect(code).to_contain_text('import OpenAI from "openai"')
    assert "oarsess." not in code.inner_text() and "oar_" not in page.content()
