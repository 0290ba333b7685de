"""Tokens per second and time to first token of the local engine on this machine.

    .venv/bin/python -m bench.local_engine_bench [--runs 5] [--max-tokens 128] [--wait-for-idle 600]

Starts ``python -m local_engine`` (the packaged Gemma 3 270M unless ``--model``) once
per engine configuration, sends Paddler-native NDJSON requests directly (no Oarlock in between),
and measures on the client side, per request:

- time to first token (TTFT): request sent -> first token line received (prompt evaluation
  included);
- decode rate: (tokens - 1) / (last token line - first token line);
- end-to-end rate: tokens / (request sent -> Done).

Token counts come from the engine's own ``Done`` usage. One warm-up request per scenario is not
counted. Prints medians and the best run (on a shared machine the best run is the closest to
what the hardware can do; the 1-minute load average is recorded with every scenario) and writes
``bench/results/local_engine.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.deployment import PROJECT_DIR
from bench.machine_facts import machine_facts
from bench.managed_process import ManagedProcess, free_port
from paddler_protocol.paddler_message import TOKEN_MESSAGE_TYPES, Done, parse_line

RESULT_PATH = PROJECT_DIR / "bench" / "results" / "local_engine.json"
CHAT = "/api/v1/continue_from_conversation_history"
RAW = "/api/v1/continue_from_raw_prompt"
SHORT_CHAT = "Write a short story about a lighthouse keeper and a storm."
# ~760 prompt tokens (with the template): shows what prompt evaluation adds to the time to first token.
LONG_CONTEXT = " ".join(f"Item {n}: the keeper checked lamp {n} and wrote it in the log." for n in range(1, 41))


@dataclass(frozen=True, slots=True)
class EngineConfig:
    name: str
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    engine: EngineConfig
    path: str
    body: dict[str, Any]
    concurrency: int = 1


@dataclass(frozen=True, slots=True)
class RunResult:
    prompt_tokens: int
    completion_tokens: int
    ttft_seconds: float
    decode_tokens_per_second: float
    end_to_end_tokens_per_second: float
    seconds: float


def chat_body(text: str, max_tokens: int) -> dict[str, Any]:
    return {
        "add_generation_prompt": True,
        "conversation_history": [{"role": "user", "content": text}],
        "enable_thinking": False,
        "max_tokens": max_tokens,
    }


def scenarios(max_tokens: int) -> list[Scenario]:
    default = EngineConfig("1 slot, Paddler default sampling", ("--slots", "1"))
    one_thread = EngineConfig("1 slot, 1 thread, Paddler default sampling", ("--slots", "1", "--threads", "1"))
    greedy = EngineConfig("1 slot, greedy", ("--slots", "1", "--temperature", "0"))
    two_slots = EngineConfig("2 slots, Paddler default sampling", ("--slots", "2"))
    return [
        Scenario("chat, short prompt", default, CHAT, chat_body(SHORT_CHAT, max_tokens)),
        Scenario("chat, ~760-token prompt", default, CHAT, chat_body(LONG_CONTEXT + "\nSummarise the log.", max_tokens)),
        Scenario("chat, short prompt", one_thread, CHAT, chat_body(SHORT_CHAT, max_tokens)),
        Scenario("raw prompt, greedy", greedy, RAW, {"raw_prompt": "Count from 1 to 500: 1, 2, 3,", "max_tokens": max_tokens}),
        Scenario("chat, 2 concurrent streams", two_slots, CHAT, chat_body(SHORT_CHAT, max_tokens), concurrency=2),
    ]


def measure(client: httpx.Client, url: str, body: dict[str, Any]) -> RunResult:
    sent = time.perf_counter()
    token_times: list[float] = []
    done: Done | None = None
    with client.stream("POST", url, json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line:
                continue
            message = parse_line(line).message
            if isinstance(message, Done):
                done = message
            elif isinstance(message, TOKEN_MESSAGE_TYPES):
                token_times.append(time.perf_counter())
            else:
                raise RuntimeError(f"unexpected message {message!r}")
    finished = time.perf_counter()
    if done is None or not token_times:
        raise RuntimeError("the stream ended without tokens and Done")
    tokens = done.usage.completion_tokens
    decode_span = token_times[-1] - token_times[0]
    return RunResult(
        prompt_tokens=done.usage.prompt_tokens,
        completion_tokens=tokens,
        ttft_seconds=token_times[0] - sent,
        decode_tokens_per_second=(len(token_times) - 1) / decode_span if decode_span > 0 else 0.0,
        end_to_end_tokens_per_second=tokens / (finished - sent),
        seconds=finished - sent,
    )


def run_scenario(engine_url: str, scenario: Scenario, runs: int) -> dict[str, Any]:
    url = f"{engine_url}{scenario.path}"
    load_before = os.getloadavg()[0]
    with httpx.Client(timeout=300, trust_env=False) as client:
        measure(client, url, scenario.body)  # warm-up: first-use allocations, caches
        results: list[RunResult] = []
        with ThreadPoolExecutor(max_workers=scenario.concurrency) as pool:
            for _ in range(runs):
                started = time.perf_counter()
                batch = list(pool.map(lambda _: measure(client, url, scenario.body), range(scenario.concurrency)))
                wall = time.perf_counter() - started
                results += batch
                if scenario.concurrency > 1:
                    print(f"  {scenario.name}: aggregate {sum(r.completion_tokens for r in batch) / wall:.1f} tok/s")
    return {
        "scenario": scenario.name,
        "engine": scenario.engine.name,
        "concurrency": scenario.concurrency,
        # Other processes on the machine slow llama.cpp's threads down a lot: keep the context.
        "load_average_1m": {"before": load_before, "after": os.getloadavg()[0]},
        "runs": [asdict(result) for result in results],
        "median": {
            field: statistics.median(getattr(result, field) for result in results)
            for field in RunResult.__dataclass_fields__
        },
        # On a shared machine the best run is the closest to what the hardware can do.
        "best": {
            "ttft_seconds": min(result.ttft_seconds for result in results),
            "decode_tokens_per_second": max(result.decode_tokens_per_second for result in results),
            "end_to_end_tokens_per_second": max(result.end_to_end_tokens_per_second for result in results),
        },
    }


def cpu_idle_fraction(seconds: float) -> float:
    """Share of CPU time spent idle over ``seconds`` (all cores, from /proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    idle_before, total_before = sample()
    time.sleep(seconds)
    idle_after, total_after = sample()
    return (idle_after - idle_before) / max(1, total_after - total_before)


def wait_for_idle_machine(max_wait: float) -> bool:
    """Wait until the other processes leave the CPUs alone for 10 s (at most ``max_wait`` s)."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        if cpu_idle_fraction(5) > 0.9 and cpu_idle_fraction(5) > 0.9:
            return True
    print("  the machine stayed busy: measuring anyway")
    return False


def start_engine(config: EngineConfig, model: str | None, log_dir: Path) -> ManagedProcess:
    port = free_port()
    command = [sys.executable, "-m", "local_engine", "--port", str(port), *config.flags]
    if model:
        command += ["--model", model]
    return ManagedProcess(
        f"local engine ({config.name})", command, env=dict(os.environ), cwd=PROJECT_DIR,
        log_path=log_dir / f"engine-{port}.log", ready_url=f"http://127.0.0.1:{port}/health",
        port=port, ready_timeout=300,
    )


def print_table(results: Sequence[dict[str, Any]]) -> None:
    header = (
        f"{'scenario':34} {'engine':44} {'prompt':>6} {'tokens':>6} {'TTFT ms':>8} "
        f"{'decode tok/s':>12} {'e2e tok/s':>9} {'best TTFT':>9} {'best decode':>11} {'load':>9}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        median, best = result["median"], result["best"]
        print(
            f"{result['scenario']:34} {result['engine']:44} {median['prompt_tokens']:>6.0f} "
            f"{median['completion_tokens']:>6.0f} {median['ttft_seconds'] * 1000:>8.0f} "
            f"{median['decode_tokens_per_second']:>12.1f} {median['end_to_end_tokens_per_second']:>9.1f} "
            f"{best['ttft_seconds'] * 1000:>9.0f} {best['decode_tokens_per_second']:>11.1f} "
            f"{result['load_average_1m']['before']:>4.1f}-{result['load_average_1m']['after']:<4.1f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--model", help="GGUF file (default: the packaged Gemma 3 270M)")
    parser.add_argument("--output", type=Path, default=RESULT_PATH)
    parser.add_argument("--only", help="run the scenarios whose name contains this text")
    parser.add_argument("--wait-for-idle", type=float, default=0, metavar="SECONDS",
                        help="before each scenario, wait up to SECONDS for 10 s of idle CPUs")
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="local-engine-bench-") as log_dir:
        by_engine: dict[EngineConfig, list[Scenario]] = {}
        for scenario in scenarios(args.max_tokens):
            if args.only and args.only not in scenario.name:
                continue
            by_engine.setdefault(scenario.engine, []).append(scenario)
        for config, engine_scenarios in by_engine.items():
            with start_engine(config, args.model, Path(log_dir)) as engine:
                for scenario in engine_scenarios:
                    idle = wait_for_idle_machine(args.wait_for_idle) if args.wait_for_idle else None
                    print(f"measuring: {scenario.name} ({config.name}), {args.runs} runs")
                    results.append(run_scenario(engine.url, scenario, args.runs) | {"started_on_idle_machine": idle})
    print_table(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(
        {"machine": machine_facts(None), "max_tokens": args.max_tokens, "results": results}, indent=2
    ) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
