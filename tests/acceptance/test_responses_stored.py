"""Stored responses through the SDK: retrieve, delete, input_items, previous_response_id — each
within the tenant whose key created them."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.factories import make_api_key
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import inference_item_timeout, one_tool_call, plain_content
from tests.live_server import LiveServer


def test_a_created_response_can_be_retrieved_as_it_was_returned(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Hello"))
    created = openai_client.responses.create(model="default", input="Hi", metadata={"k": "v"})

    retrieved = openai_client.responses.retrieve(created.id)

    assert retrieved.model_dump() == created.model_dump()


def test_a_streamed_response_is_stored_with_the_ids_the_stream_used(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(one_tool_call(content_before=["Let me check."]))
    with openai_client.responses.stream(model="default", input="Weather?") as stream:
        streamed_ids = [event.item.id for event in stream if event.type == "response.output_item.done"]
        final = stream.get_final_response()

    retrieved = openai_client.responses.retrieve(final.id)

    assert [item.id for item in retrieved.output] == streamed_ids
    assert retrieved.status == "completed"


def test_a_streamed_response_reads_back_exactly_as_its_terminal_event_carried_it(
    live_server: LiveServer, api_key: tuple[object, str], fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Grüße, ", '"quoted" \\ ', "✓\n"))
    headers = {"Authorization": f"Bearer {api_key[1]}"}
    body = httpx.post(
        live_server.base_url + "/responses",
        json={"model": "default", "input": "Hi ü", "stream": True, "metadata": {"k": "é"}},
        headers=headers,
        timeout=10,
    ).text
    completed = json.loads(body.rstrip("\n").rsplit("\n", 1)[-1].removeprefix("data: "))
    assert completed["type"] == "response.completed"

    retrieved = httpx.get(
        f"{live_server.base_url}/responses/{completed['response']['id']}", headers=headers, timeout=10
    )

    assert retrieved.json() == completed["response"]
    assert retrieved.json()["output"][0]["content"][0]["text"] == 'Grüße, "quoted" \\ ✓\n'


def test_a_deleted_response_is_gone(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(plain_content("Hello"))
    created = openai_client.responses.create(model="default", input="Hi")

    openai_client.responses.delete(created.id)

    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.delete(created.id)


def test_a_delete_answers_with_openais_deleted_object(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Hello"))
    created = openai_client.responses.create(model="default", input="Hi")

    raw = openai_client.responses.with_raw_response.delete(created.id)

    assert raw.http_response.json() == {"id": created.id, "object": "response", "deleted": True}


def test_store_false_keeps_nothing(openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer) -> None:
    fake_paddler.script(plain_content("Hello"))
    created = openai_client.responses.create(model="default", input="Hi", store=False)

    assert created.store is False
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(created.id)


def test_input_items_list_every_item_with_ids_newest_first_across_pages(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("ok"))
    created = openai_client.responses.create(
        model="default",
        input=[{"role": "user", "content": f"message {n}"} for n in range(5)],
    )

    items = list(openai_client.responses.input_items.list(created.id, limit=2))

    assert [item.content[0].text for item in items] == [  # type: ignore[union-attr]
        "message 4",
        "message 3",
        "message 2",
        "message 1",
        "message 0",
    ]
    assert all(item.id.startswith("msg_") for item in items)  # type: ignore[union-attr]
    assert len({item.id for item in items}) == 5  # type: ignore[union-attr]


def test_an_input_items_page_has_openais_list_shape(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("ok"))
    created = openai_client.responses.create(
        model="default", input=[{"role": "user", "content": f"m{n}"} for n in range(3)]
    )

    raw = openai_client.responses.input_items.with_raw_response.list(created.id, limit=2, order="asc")
    page = raw.http_response.json()

    assert set(page) == {"object", "data", "first_id", "last_id", "has_more"}
    assert page["object"] == "list"
    assert page["has_more"] is True
    assert (page["first_id"], page["last_id"]) == (page["data"][0]["id"], page["data"][1]["id"])
    assert page["data"][0] == {
        "id": page["first_id"],
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_text", "text": "m0"}],
    }


def test_previous_response_id_continues_the_conversation_without_old_instructions(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Hello Ada."))
    first = openai_client.responses.create(model="default", instructions="Old rules.", input="I am Ada.")
    fake_paddler.script(plain_content("Ada."))
    second = openai_client.responses.create(
        model="default", instructions="New rules.", input="Who am I?", previous_response_id=first.id
    )
    fake_paddler.script(plain_content("Yes."))

    openai_client.responses.create(model="default", input="Sure?", previous_response_id=second.id)

    assert fake_paddler.requests[1].body is not None
    assert fake_paddler.requests[1].body["conversation_history"] == [
        {"role": "system", "content": "New rules."},
        {"role": "user", "content": "I am Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": "Who am I?"},
    ]
    assert fake_paddler.last_body is not None
    assert fake_paddler.last_body["conversation_history"] == [
        {"role": "user", "content": "I am Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": "Who am I?"},
        {"role": "assistant", "content": "Ada."},
        {"role": "user", "content": "Sure?"},
    ]
    assert second.previous_response_id == first.id


def test_a_chained_responses_input_items_hold_the_whole_conversation(
    openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(one_tool_call(call_id="call_w"))
    first = openai_client.responses.create(model="default", input="Weather?")
    fake_paddler.script(plain_content("Sunny."))
    second = openai_client.responses.create(
        model="default",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": "call_w", "output": "sunny"}],
    )

    items = list(openai_client.responses.input_items.list(second.id, order="asc"))

    assert [item.type for item in items] == ["message", "function_call", "function_call_output"]
    assert items[1].id == first.output[0].id  # type: ignore[union-attr]
    assert fake_paddler.last_body is not None
    assert [message["role"] for message in fake_paddler.last_body["conversation_history"]] == [
        "user",
        "assistant",
        "tool",
    ]


def test_a_stream_that_failed_is_stored_as_failed(
    live_server: LiveServer,
    api_key: tuple[object, str],
    openai_client: openai.OpenAI,
    fake_paddler: FakePaddlerServer,
) -> None:
    fake_paddler.script(inference_item_timeout(after_tokens=("Hel",)))
    # Read to the end of the stream (the SDK stops at the error event).
    body = httpx.post(
        live_server.base_url + "/responses",
        json={"model": "default", "input": "Hi", "stream": True},
        headers={"Authorization": f"Bearer {api_key[1]}"},
        timeout=10,
    ).text
    failed = json.loads(body.rstrip("\n").rsplit("\n", 1)[-1].removeprefix("data: "))
    assert failed["type"] == "response.failed"

    stored = openai_client.responses.retrieve(failed["response"]["id"])

    assert stored.status == "failed"
    assert stored.error is not None and stored.error.code == "timeout"
    assert stored.output_text == "Hel"


def test_another_tenants_key_cannot_see_or_continue_a_stored_response(
    live_server: LiveServer, openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("secret"))
    created = openai_client.responses.create(model="default", input="Hi")
    _, other_secret = make_api_key()
    other = openai.OpenAI(base_url=live_server.base_url, api_key=other_secret, max_retries=0, timeout=30)

    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        list(other.responses.input_items.list(created.id))
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(created.id)
    with pytest.raises(openai.BadRequestError) as caught:
        other.responses.create(model="default", input="And?", previous_response_id=created.id)
    assert caught.value.code == "previous_response_not_found"
    assert openai_client.responses.retrieve(created.id).output_text == "secret"
    other.close()


def test_another_key_of_the_same_tenant_sees_the_response(
    live_server: LiveServer, api_key: tuple[object, str], openai_client: openai.OpenAI, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("shared"))
    created = openai_client.responses.create(model="default", input="Hi")
    _, colleague_secret = make_api_key(api_key[0].tenant)  # type: ignore[attr-defined]
    colleague = openai.OpenAI(base_url=live_server.base_url, api_key=colleague_secret, max_retries=0, timeout=30)

    assert colleague.responses.retrieve(created.id).output_text == "shared"
    colleague.close()
