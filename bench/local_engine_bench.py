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

Comparing llama.cpp builds (the portable baseline ``make install`` builds against a
``-march=native`` one, say): ``--build NAME=DIR`` runs the engine with ``DIR`` — an unpacked
llama-cpp-python wheel — first on ``PYTHONPATH`` (``--build NAME=installed``: the venv's own).
The builds take turns, ``--rounds`` times in alternating order, so the machine's noise falls on
all of them; the report gives each build's medians over all rounds and its ratio to the first::

    .venv/bin/python -m bench.local_engine_bench --build portable=installed \
        --build native=/tmp/native-site --rounds 2 --only "chat, short" --only "760"
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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
from bench.process_stats import cpu_seconds
from paddler_protocol.paddler_message import TOKEN_MESSAGE_TYPES, Done, parse_line

RESULT_PATH = PROJECT_DIR / "bench" / "results" / "local_engine.json"
BUILDS_RESULT_PATH = PROJECT_DIR / "bench" / "results" / "local_engine_builds.json"
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
class Build:
    """A llama-cpp-python to run the engine with: the venv's own, or an unpacked wheel first on PYTHONPATH."""

    name: str
    python_path: str | None = None

    @classmethod
    def parse(cls, text: str) -> Build:
        name, _, where = text.partition("=")
        if not name or not where:
            raise argparse.ArgumentTypeError("expected NAME=DIR or NAME=installed")
        return cls(name, None if where == "installed" else str(Path(where).resolve()))

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.python_path:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [self.python_path, env.get("PYTHONPATH")]))
        return env

    def describe(self) -> dict[str, str]:
        """Which llama_cpp this build loads and what ggml says it was compiled for."""
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                "import llama_cpp; print(llama_cpp.__file__); "
                "print(llama_cpp.llama_print_system_info().decode().strip())",
            ],
            capture_output=True,
            text=True,
            env=self.environment(),
            cwd=PROJECT_DIR,
            check=True,
        )
        path, _, features = probe.stdout.partition("\n")
        return {"name": self.name, "llama_cpp": path, "compiled_features": features.strip()}


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
        Scenario(
            "chat, ~760-token prompt", default, CHAT, chat_body(LONG_CONTEXT + "\nSummarise the log.", max_tokens)
        ),
        Scenario("chat, short prompt", one_thread, CHAT, chat_body(SHORT_CHAT, max_tokens)),
        Scenario(
            "raw prompt, greedy", greedy, RAW, {"raw_prompt": "Count from 1 to 500: 1, 2, 3,", "max_tokens": max_tokens}
        ),
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


def run_scenario(engine_url: str, scenario: Scenario, runs: int, engine_pid: int) -> dict[str, Any]:
    url = f"{engine_url}{scenario.path}"
    load_before = os.getloadavg()[0]
    with httpx.Client(timeout=300, trust_env=False) as client:
        measure(client, url, scenario.body)  # warm-up: first-use allocations, caches
        cpu_before = cpu_seconds(engine_pid)
        results: list[RunResult] = []
        with ThreadPoolExecutor(max_workers=scenario.concurrency) as pool:
            for _ in range(runs):
                started = time.perf_counter()
                batch = list(pool.map(lambda _: measure(client, url, scenario.body), range(scenario.concurrency)))
                wall = time.perf_counter() - started
                results += batch
                if scenario.concurrency > 1:
                    print(f"  {scenario.name}: aggregate {sum(r.completion_tokens for r in batch) / wall:.1f} tok/s")
    # Engine CPU time per token: what the instructions cost, whatever else the machine is doing
    # (wall-clock rates on a busy machine mostly measure the other processes).
    cpu_per_token = (cpu_seconds(engine_pid) - cpu_before) / max(1, sum(r.completion_tokens for r in results))
    return {
        "scenario": scenario.name,
        "engine": scenario.engine.name,
        "engine_cpu_ms_per_token": cpu_per_token * 1000,
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


def start_engine(config: EngineConfig, model: str | None, log_dir: Path, build: Build) -> ManagedProcess:
    port = free_port()
    command = [sys.executable, "-m", "local_engine", "--port", str(port), *config.flags]
    if model:
        command += ["--model", model]
    return ManagedProcess(
        f"local engine ({config.name}, {build.name})",
        command,
        env=build.environment(),
        cwd=PROJECT_DIR,
        log_path=log_dir / f"engine-{port}.log",
        ready_url=f"http://127.0.0.1:{port}/health",
        port=port,
        ready_timeout=300,
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
            f"{result['scenario']:34} {result['engine'] + ' [' + result['build'] + ']':44} {median['prompt_tokens']:>6.0f} "
            f"{median['completion_tokens']:>6.0f} {median['ttft_seconds'] * 1000:>8.0f} "
            f"{median['decode_tokens_per_second']:>12.1f} {median['end_to_end_tokens_per_second']:>9.1f} "
            f"{best['ttft_seconds'] * 1000:>9.0f} {best['decode_tokens_per_second']:>11.1f} "
            f"{result['load_average_1m']['before']:>4.1f}-{result['load_average_1m']['after']:<4.1f}"
        )


def print_comparison(results: Sequence[dict[str, Any]], builds: Sequence[Build]) -> None:
    """Each build's medians over all its rounds, and its ratio to the first build."""
    baseline = builds[0].name
    print(
        f"\n{'scenario':34} {'engine':44} {'build':10} {'TTFT ms':>8} {'decode tok/s':>12} "
        f"{'CPU ms/token':>12} {'TTFT ratio':>10} {'decode ratio':>12} {'CPU ratio':>9}"
    )
    keys = dict.fromkeys((r["scenario"], r["engine"]) for r in results)
    for scenario, engine in keys:
        medians = {}
        for build in builds:
            runs = [
                run
                for r in results
                if (r["scenario"], r["engine"], r["build"]) == (scenario, engine, build.name)
                for run in r["runs"]
            ]
            cpu = [
                r["engine_cpu_ms_per_token"]
                for r in results
                if (r["scenario"], r["engine"], r["build"]) == (scenario, engine, build.name)
            ]
            medians[build.name] = (
                statistics.median(run["ttft_seconds"] for run in runs),
                statistics.median(run["decode_tokens_per_second"] for run in runs),
                statistics.median(cpu),
            )
        base = medians[baseline]
        for build in builds:
            ttft, decode, cpu_ms = medians[build.name]
            print(
                f"{scenario:34} {engine:44} {build.name:10} {ttft * 1000:>8.0f} {decode:>12.1f} {cpu_ms:>12.1f} "
                f"{ttft / base[0]:>10.2f} {decode / base[1]:>12.2f} {cpu_ms / base[2]:>9.2f}"
            )


def run_rounds(args: argparse.Namespace, builds: Sequence[Build], rounds: int) -> list[dict[str, Any]]:
    by_engine: dict[EngineConfig, list[Scenario]] = {}
    for scenario in scenarios(args.max_tokens):
        if args.only and not any(text in scenario.name for text in args.only):
            continue
        by_engine.setdefault(scenario.engine, []).append(scenario)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="local-engine-bench-") as log_dir:
        for round_number in range(rounds):
            # Alternate the order, so that neither build always runs first after a pause.
            for build in builds if round_number % 2 == 0 else builds[::-1]:
                for config, engine_scenarios in by_engine.items():
                    with start_engine(config, args.model, Path(log_dir), build) as engine:
                        for scenario in engine_scenarios:
                            idle = wait_for_idle_machine(args.wait_for_idle) if args.wait_for_idle else None
                            print(
                                f"measuring: {scenario.name} ({config.name}, build {build.name}, "
                                f"round {round_number + 1}), {args.runs} runs"
                            )
                            result = run_scenario(engine.url, scenario, args.runs, engine.pid)
                            results.append(
                                result
                                | {"build": build.name, "round": round_number + 1, "started_on_idle_machine": idle}
                            )
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--model", help="GGUF file (default: the packaged Gemma 3 270M)")
    parser.add_argument(
        "--output", type=Path, help=f"default: {RESULT_PATH.name}, with --build {BUILDS_RESULT_PATH.name}"
    )
    parser.add_argument("--only", action="append", help="run the scenarios whose name contains this text (repeatable)")
    parser.add_argument(
        "--wait-for-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each scenario, wait up to SECONDS for 10 s of idle CPUs",
    )
    parser.add_argument(
        "--build",
        type=Build.parse,
        action="append",
        metavar="NAME=DIR",
        help="compare llama.cpp builds: DIR is an unpacked wheel, or 'installed'",
    )
    parser.add_argument("--rounds", type=int, default=2, help="with --build: turns each build takes")
    args = parser.parse_args(argv)
    builds: list[Build] = args.build or [Build("installed")]
    results = run_rounds(args, builds, rounds=args.rounds if args.build else 1)
    print_table(results)
    if args.build:
        print_comparison(results, builds)
    output = args.output or (BUILDS_RESULT_PATH if args.build else RESULT_PATH)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(
            {
                "machine": machine_facts(None),
                "max_tokens": args.max_tokens,
                "builds": [build.describe() for build in builds],
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {output}")


if __name__ == "__main__":
    main()
