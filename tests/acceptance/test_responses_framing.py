"""The raw SSE of /v1/responses, read byte for byte with httpx: the framing rules clients such as
Codex depend on (wire-format reference 6.1, 6.3, 12)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from paddler_protocol.paddler_message import ContentToken, ParsedToolCall, ReasoningToken, ToolCallParsed
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import (
    finished,
    plain_content,
    tool_call,
    tool_call_batches,
)
from tests.live_server import LiveServer


def post_stream(server: LiveServer, secret: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        server.base_url + "/responses",
        json={"model": "default", "stream": True, **body},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )


def frames(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event line, data JSON) per SSE event; asserts each event is exactly those two lines."""
    assert text.endswith("\n\n")
    parsed = []
    for block in text[:-2].split("\n\n"):
        event_line, data_line = block.split("\n")
        assert event_line.startswith("event: ") and data_line.startswith("data: ")
        parsed.append((event_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: "))))
    return parsed


MIXED = finished(
    [
        ReasoningToken("Thinking"),
        ContentToken("Checking "),
        ContentToken("both."),
        ToolCallParsed((ParsedToolCall("call_1", "get_weather", '{"city":"Paris"}'),)),
        ToolCallParsed((ParsedToolCall("call_2", "get_weather", '{"city":"Rome"}'),)),
    ]
)


@pytest.fixture
def secret(api_key: tuple[object, str]) -> str:
    return api_key[1]


def test_every_event_line_names_its_json_type_and_there_is_no_done(
    live_server: LiveServer, secret: str, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(MIXED)

    response = post_stream(live_server, secret, {"input": "Hi"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"].startswith("req_")
    assert "[DONE]" not in response.text
    for event_name, data in frames(response.text):
        assert event_name == data["type"]


def test_sequence_numbers_run_from_zero_without_gaps_starting_with_response_created(
    live_server: LiveServer, secret: str, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(MIXED)

    events = [data for _, data in frames(post_stream(live_server, secret, {"input": "Hi"}).text)]

    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert [event["type"] for event in events[:2]] == ["response.created", "response.in_progress"]
    assert events[-1]["type"] == "response.completed"
    assert events[0]["response"]["id"] == events[-1]["response"]["id"]


def test_completed_output_equals_the_output_item_done_items(
    live_server: LiveServer, secret: str, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(MIXED)

    events = [data for _, data in frames(post_stream(live_server, secret, {"input": "Hi"}).text)]

    done_items = [event["item"] for event in events if event["type"] == "response.output_item.done"]
    assert [item["type"] for item in done_items] == ["reasoning", "message", "function_call", "function_call"]
    assert events[-1]["response"]["output"] == done_items
    assert events[-1]["response"]["usage"]["total_tokens"] > 0


def test_every_delta_follows_its_item_and_part_and_one_item_is_open_at_a_time(
    live_server: LiveServer, secret: str, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(MIXED)

    events = [data for _, data in frames(post_stream(live_server, secret, {"input": "Hi"}).text)]

    open_item: str | None = None
    parts: set[str] = set()
    for event in events:
        kind = event["type"]
        if kind == "response.output_item.added":
            assert open_item is None
            open_item = event["item"]["id"]
        elif kind == "response.content_part.added":
            assert event["item_id"] == open_item
            parts.add(open_item)
        elif kind in ("response.output_text.delta", "response.reasoning_text.delta"):
            assert event["item_id"] == open_item and open_item in parts
        elif kind == "response.function_call_arguments.delta":
            assert event["item_id"] == open_item
        elif kind == "response.output_item.done":
            assert event["item"]["id"] == open_item
            open_item = None
    assert open_item is None


def test_function_call_items_carry_every_field_when_added_and_done(
    live_server: LiveServer, secret: str, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(tool_call_batches([tool_call("get_weather", {"city": "Paris"}, "call_9")]))

    events = [data for _, data in frames(post_stream(live_server, secret, {"input": "Hi"}).text)]

    added = next(event["item"] for event in events if event["type"] == "response.output_item.added")
    done = next(event["item"] for event in events if event["type"] == "response.output_item.done")
    assert added == {**done, "status": "in_progress", "arguments": ""}
    assert set(done) == {"id", "type", "status", "call_id", "name", "arguments"}
    arguments_done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert (arguments_done["name"], arguments_done["arguments"]) == ("get_weather", '{"city":"Paris"}')


def test_the_connection_closes_right_after_the_terminal_event(
    live_server: LiveServer, secret: str, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(plain_content("Hi"))
    terminal_at = end_at = None

    with httpx.stream(
        "POST",
        live_server.base_url + "/responses",
        json={"model": "default", "input": "Hi", "stream": True},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    ) as response:
        for line in response.iter_lines():
            if line == "event: response.completed":
                terminal_at = time.monotonic()
        end_at = time.monotonic()

    assert terminal_at is not None
    assert end_at - terminal_at < 1.0


def test_a_replayed_codex_request_is_accepted(
    live_server: LiveServer, secret: str, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(tool_call_batches([tool_call("shell", {"command": ["ls"]}, "")]))
    body = {
        "model": "default",
        "instructions": "You are Codex, a coding agent.",
        "input": [
            {
                "type": "message",
                "id": f"msg_{uuid.uuid4()}",
                "role": "user",
                "content": [{"type": "input_text", "text": "<environment_context>cwd=/repo</environment_context>"}],
            },
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "List files"}]},
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Plan"}],
                "content": [{"type": "reasoning_text", "text": "I should run ls."}],
                "encrypted_content": "gAAAAB-opaque",
            },
            {
                "type": "function_call",
                "name": "shell",
                "arguments": '{"command":["pwd"]}',
                "call_id": "call_prev",
            },
            {
                "type": "function_call_output",
                "id": f"fco_{uuid.uuid4()}",
                "call_id": "call_prev",
                "output": "/repo",
            },
            {"type": "local_shell_call", "call_id": "ls_1", "status": "completed", "action": {"type": "exec"}},
        ],
        "tools": [
            {
                "type": "function",
                "name": "shell",
                "description": "Runs a shell command",
                "strict": False,
                "parameters": {
                    "type": "object",
                    "properties": {"command": {"type": "array", "items": {"type": "string"}}},
                    "required": ["command"],
                    "additionalProperties": False,
                },
            },
            {"type": "custom", "name": "apply_patch", "description": "Patch files", "format": {"type": "grammar"}},
            {"type": "web_search"},
            {"type": "local_shell"},
            {"type": "namespace", "name": "mcp__docs", "description": "Docs", "tools": []},
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": str(uuid.uuid4()),
        "client_metadata": {"originator": "codex_cli_rs", "session_id": str(uuid.uuid4())},
        "text": {"verbosity": "medium"},
    }

    response = httpx.post(
        live_server.base_url + "/responses",
        json=body,
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )

    assert response.status_code == 200, response.text
    events = [data for _, data in frames(response.text)]
    assert events[-1]["type"] == "response.completed"
    [call] = events[-1]["response"]["output"]
    assert (call["type"], call["name"], call["arguments"]) == ("function_call", "shell", '{"command":["ls"]}')
    assert call["call_id"].startswith("call_")
    sent = fake_paddler.last_body
    assert sent is not None
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["shell"]
    assert [message["role"] for message in sent["conversation_history"]] == ["system", "user", "assistant", "tool"]
    retrieved = httpx.get(
        live_server.base_url + f"/responses/{events[-1]['response']['id']}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert retrieved.status_code == 404


def test_an_empty_probe_with_one_output_token_is_answered(
    live_server: LiveServer, secret: str, fake_paddler: FakePaddlerServer
) -> None:
    fake_paddler.script(finished([ContentToken(".")]))

    response = post_stream(live_server, secret, {"input": [], "max_output_tokens": 1, "store": False})

    assert response.status_code == 200
    assert frames(response.text)[-1][0] == "response.incomplete"
    assert fake_paddler.last_body is not None
    assert (fake_paddler.last_body["conversation_history"], fake_paddler.last_body["max_tokens"]) == ([], 1)
