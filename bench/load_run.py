"""One bounded load run (wrk or the async client) with everyone's CPU accounted for.

The generator's CPU comes from ``wait4``'s resource usage of its process; the server's and the
mock's from /proc before and after. Every run reports how many cores each one used, so the
generator's share of the machine is part of every result.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from bench.process_stats import machine_busy_seconds, sample

BENCH_DIR: Final = Path(__file__).resolve().parent
WRK_SCRIPT: Final = BENCH_DIR / "wrk_post.lua"


def _spawn_and_account(
    command: list[str], env: Mapping[str, str], watched: Mapping[str, int], timeout: float
) -> tuple[str, dict[str, float]]:
    """Run the generator; return its stdout and the cores used by it and by each watched pid."""
    before = {name: sample(pid) for name, pid in watched.items()}
    machine_before = machine_busy_seconds()
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, env=dict(env), stdout=out, stderr=subprocess.DEVNULL, cwd=BENCH_DIR.parent)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        out.seek(0)
        stdout = out.read().decode(errors="replace")
    cores = {
        f"{name}_cores": (sample(pid).cpu_seconds - before[name].cpu_seconds) / wall for name, pid in watched.items()
    }
    cores["generator_cores"] = (usage.ru_utime + usage.ru_stime) / wall
    # Everything this machine did meanwhile: server, mock, generator, PostgreSQL, Redis, the rest.
    cores["machine_cores"] = (machine_busy_seconds() - machine_before) / wall
    total = sum(value for name, value in cores.items() if name != "machine_cores")
    cores["generator_share"] = cores["generator_cores"] / total if total else 0.0
    cores["wall_seconds"] = wall
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} exited with {process.returncode}: {stdout[-2000:]}")
    return stdout, cores


def run_wrk(
    wrk: str,
    url: str,
    *,
    body: bytes,
    authorization: str,
    concurrency: int,
    duration: float,
    watched: Mapping[str, int],
) -> dict[str, Any]:
    """Non-streaming requests with wrk (one thread: it is far cheaper than the servers)."""
    command = [
        wrk,
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        url,
    ]
    env = {**os.environ, "BENCH_BODY": body.decode(), "BENCH_AUTHORIZATION": authorization}
    stdout, cores = _spawn_and_account(command, env, watched, timeout=duration + 30)
    line = next((line for line in stdout.splitlines() if line.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {stdout[-2000:]}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw["errors"].values())
    latency = {name: value / 1000 for name, value in raw["latency_us"].items()}
    completed = raw["requests"] - raw["errors"]["status"]
    return _result("wrk", concurrency, completed, errors, completed / seconds, latency, None, cores, {"wrk": raw})


def run_http_load(
    url: str,
    *,
    body: bytes,
    headers: list[str],
    concurrency: int,
    duration: float,
    watched: Mapping[str, int],
    max_requests: int = 1_000_000,
) -> dict[str, Any]:
    """Requests through ``bench.http_load`` (streaming, or non-streaming when wrk is missing)."""
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as body_file:
        body_file.write(body)
    try:
        command = [
            sys.executable,
            "-m",
            "bench.http_load",
            "--url",
            url,
            "--body-file",
            body_file.name,
            "--concurrency",
            str(concurrency),
            "--duration",
            str(duration),
            "--max-requests",
            str(max_requests),
        ]
        for header in headers:
            command += ["--header", header]
        stdout, cores = _spawn_and_account(command, os.environ, watched, timeout=duration + 60)
    finally:
        os.unlink(body_file.name)
    raw = json.loads(stdout.strip().splitlines()[-1])
    errors = sum(raw["errors"].values())
    return _result(
        "http_load",
        concurrency,
        raw["completed"],
        errors,
        raw["requests_per_second"],
        raw["total_ms"],
        raw["first_byte_ms"],
        cores,
        {"events_per_response": raw["events_per_response"], "error_kinds": raw["errors"]},
    )


def _result(
    generator: str,
    concurrency: int,
    completed: int,
    errors: int,
    rate: float,
    latency: Mapping[str, float],
    first_byte: Mapping[str, float] | None,
    cores: Mapping[str, float],
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    server_cores = cores.get("server_cores")
    return {
        "generator": generator,
        "concurrency": concurrency,
        "completed": completed,
        "errors": errors,
        "requests_per_second": rate,
        "latency_ms": {k: latency[k] for k in ("p50", "p90", "p99")},
        "first_byte_ms": None if first_byte is None else {k: first_byte[k] for k in ("p50", "p90", "p99")},
        "cpu": dict(cores),
        # CPU per request is the least noisy number on a shared machine.
        "server_cpu_ms_per_request": (server_cores * 1000 / rate) if server_cores and rate else None,
        **extra,
    }
