"""The scenarios of issue 8, each run against one target (floor, LiteLLM, or an Oarlock setup).

A target is a base URL and the headers a client sends it. The prompt tells the mock how long
an answer is (``tokens=N``), so every target gets the very same tokens from the same mock.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import httpx

from bench.bench_profile import BenchProfile
from bench.load_run import run_http_load, run_wrk
from bench.process_stats import tree_rss_bytes

SHORT_ANSWER_TOKENS: Final = 8
STREAM_TOKENS: Final = 64
# Time to first token is measured on answers whose tokens come 5 ms apart, as a model's do: with
# an instant burst, the first event waits for the server to process everything that arrived in
# the same read, which says nothing about a real first token.
TTFT_TOKENS: Final = 8
TTFT_TOKEN_DELAY_MS: Final = 5


def chat_body(*, tokens: int, stream: bool, delay_ms: int | None = None) -> bytes:
    prompt = f"Benchmark prompt. tokens={tokens}" + (f" delay_ms={delay_ms}" if delay_ms is not None else "")
    body: dict[str, Any] = {"model": "bench", "messages": [{"role": "user", "content": prompt}]}
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


def responses_body(*, tokens: int, stream: bool, delay_ms: int | None = None) -> bytes:
    prompt = f"Benchmark prompt. tokens={tokens}" + (f" delay_ms={delay_ms}" if delay_ms is not None else "")
    body: dict[str, Any] = {"model": "bench", "input": prompt}
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str
    api_key: str
    # Process ids whose CPU is accounted: "server" (the system under test) and "mock".
    watched: Mapping[str, int] = field(default_factory=dict)
    serves_responses: bool = True

    @property
    def authorization(self) -> str:
        return f"Bearer {self.api_key}" if self.api_key else ""

    @property
    def headers(self) -> list[str]:
        return [f"Authorization: {self.authorization}"] if self.api_key else []


ProfiledScenario = Literal["non_streaming", "chat_streaming", "responses_streaming"]
PROFILED_SCENARIOS: Final = ("non_streaming", "chat_streaming", "responses_streaming")


def scenario_request(scenario: ProfiledScenario) -> tuple[str, bytes]:
    """The path and body of one request of a scenario, for the profilers (``--scenario``)."""
    if scenario == "non_streaming":
        return "/v1/chat/completions", chat_body(tokens=SHORT_ANSWER_TOKENS, stream=False)
    if scenario == "chat_streaming":
        return "/v1/chat/completions", chat_body(tokens=STREAM_TOKENS, stream=True)
    return "/v1/responses", responses_body(tokens=STREAM_TOKENS, stream=True)


def scenario_load(
    scenario: ProfiledScenario,
    target: Target,
    *,
    wrk: str | None,
    concurrency: int,
    duration: float,
    watched: Mapping[str, int],
) -> dict[str, Any]:
    """One load run of a scenario: wrk for non-streaming when it is there, else bench.http_load."""
    path, body = scenario_request(scenario)
    url = target.base_url + path
    if scenario == "non_streaming" and wrk is not None:
        return run_wrk(
            wrk,
            url,
            body=body,
            authorization=target.authorization,
            concurrency=concurrency,
            duration=duration,
            watched=watched,
        )
    return run_http_load(
        url, body=body, headers=target.headers, concurrency=concurrency, duration=duration, watched=watched
    )


def check_target(target: Target) -> None:
    """One request of each kind, so a broken setup fails loudly instead of measuring errors."""
    headers = {"Content-Type": "application/json"}
    if target.api_key:
        headers["Authorization"] = target.authorization
    with httpx.Client(timeout=30, trust_env=False) as client:
        response = client.post(
            target.base_url + "/v1/chat/completions",
            headers=headers,
            content=chat_body(tokens=SHORT_ANSWER_TOKENS, stream=False),
        )
        if response.status_code != 200:
            raise RuntimeError(f"{target.name} answered {response.status_code}: {response.text[:500]}")
        content = response.json()["choices"][0]["message"]["content"]
        if content.count("lorem") != SHORT_ANSWER_TOKENS:
            raise RuntimeError(f"{target.name}: unexpected answer {content!r}")


def non_streaming(target: Target, profile: BenchProfile, wrk: str | None) -> dict[str, Any]:
    """Scenario 1: short chat answers at each concurrency."""
    body = chat_body(tokens=SHORT_ANSWER_TOKENS, stream=False)
    url = target.base_url + "/v1/chat/completions"
    results: dict[str, Any] = {}
    _warm_up(target, url, body, profile, wrk)
    for concurrency in profile.concurrencies:
        if wrk is not None:
            results[str(concurrency)] = run_wrk(
                wrk,
                url,
                body=body,
                authorization=target.authorization,
                concurrency=concurrency,
                duration=profile.duration,
                watched=target.watched,
            )
        else:
            results[str(concurrency)] = run_http_load(
                url,
                body=body,
                headers=target.headers,
                concurrency=concurrency,
                duration=profile.duration,
                watched=target.watched,
            )
    return results


def streaming(target: Target, profile: BenchProfile, *, path: str, body: bytes, ttft_body: bytes) -> dict[str, Any]:
    """Scenarios 2 and 3: one stream at a time (TTFT, total), then many (streams/s, tokens/s)."""
    url = target.base_url + path
    results: dict[str, Any] = {}
    run_http_load(
        url, body=body, headers=target.headers, concurrency=2, duration=profile.warmup, watched=target.watched
    )
    results["ttft"] = run_http_load(
        url, body=ttft_body, headers=target.headers, concurrency=1, duration=profile.duration, watched=target.watched
    )
    for concurrency in (1, profile.stream_concurrency):
        result = run_http_load(
            url,
            body=body,
            headers=target.headers,
            concurrency=concurrency,
            duration=profile.duration,
            watched=target.watched,
        )
        result["relayed_tokens_per_second"] = result["requests_per_second"] * STREAM_TOKENS
        results[str(concurrency)] = result
    return results


def _warm_up(target: Target, url: str, body: bytes, profile: BenchProfile, wrk: str | None) -> None:
    if wrk is not None:
        run_wrk(
            wrk,
            url,
            body=body,
            authorization=target.authorization,
            concurrency=10,
            duration=profile.warmup,
            watched=target.watched,
        )
    else:
        run_http_load(
            url, body=body, headers=target.headers, concurrency=4, duration=profile.warmup, watched=target.watched
        )


def open_streams(target: Target, profile: BenchProfile, *, server_pid: int, mock_url: str) -> dict[str, Any]:
    """Scenario 4: many open, mostly idle streams (a token a second): RSS per stream, loop lag.

    The server must run ``bench.probed_asgi:application`` (the loop-lag probe)."""
    with httpx.Client(timeout=30, trust_env=False) as client:
        probe = target.base_url + "/__bench/loop_lag"
        rss_started = tree_rss_bytes(server_pid)
        check_target(target)
        run_http_load(
            target.base_url + "/v1/chat/completions",
            body=chat_body(tokens=8, stream=True),
            headers=target.headers,
            concurrency=4,
            duration=profile.warmup,
            watched={},
        )
        time.sleep(1.0)
        client.get(probe)
        time.sleep(profile.lag_window)
        idle_lag = client.get(probe).json()
        rss_idle = tree_rss_bytes(server_pid)
        mock_before = client.get(mock_url + "/__stats").json()
        body = chat_body(tokens=profile.open_stream_seconds, stream=True, delay_ms=1000)
        with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as body_file:
            body_file.write(body)
        command = [
            sys.executable,
            "-m",
            "bench.open_streams",
            "--url",
            target.base_url + "/v1/chat/completions",
            "--body-file",
            body_file.name,
            "--streams",
            str(profile.open_streams),
            "--hold",
            str(profile.open_stream_seconds),
        ]
        for header in target.headers:
            command += ["--header", header]
        client_process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            assert client_process.stdout is not None and client_process.stdin is not None
            ready_line = client_process.stdout.readline()
            if not ready_line.startswith("READY "):
                raise RuntimeError(f"open_streams did not get ready: {ready_line!r}")
            ready = json.loads(ready_line.removeprefix("READY "))
            client.get(probe)
            time.sleep(profile.lag_window)
            open_lag = client.get(probe).json()
            rss_open = tree_rss_bytes(server_pid)
            mock_open = client.get(mock_url + "/__stats").json()
            client_process.stdin.write("close\n")
            client_process.stdin.flush()
            done_line = client_process.stdout.readline()
            client_process.wait(30)
        finally:
            if client_process.poll() is None:
                client_process.kill()
            Path(body_file.name).unlink(missing_ok=True)
        # Every hang-up must reach the mock as a closed upstream connection (= cancelled generation).
        deadline = time.monotonic() + 10
        while True:
            mock_after = client.get(mock_url + "/__stats").json()
            if mock_after["open"] <= mock_before["open"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        rss_after = tree_rss_bytes(server_pid)
    opened = ready["open"]
    return {
        "streams_requested": profile.open_streams,
        "streams_open": opened,
        "open_failures": ready["failures"],
        "failure_kinds": ready["failure_kinds"],
        "seconds_to_open_all": ready["seconds_to_open_all"],
        "upstream_streams_open_at_peak": mock_open["open"] - mock_before["open"],
        "upstream_cancelled_after_hang_up": mock_after["disconnected"] - mock_before["disconnected"],
        "upstream_still_open_after_hang_up": mock_after["open"] - mock_before["open"],
        "rss_mb_at_start": rss_started / 2**20,
        "rss_mb_idle_worker": rss_idle / 2**20,
        "rss_mb_with_streams_open": rss_open / 2**20,
        "rss_mb_after_hang_up": rss_after / 2**20,
        "rss_kib_per_open_stream": (rss_open - rss_idle) / 1024 / opened if opened else None,
        "loop_lag_idle": idle_lag,
        "loop_lag_with_streams_open": open_lag,
        "client": json.loads(done_line.removeprefix("DONE ")) if done_line.startswith("DONE ") else None,
    }
