"""What an open live-monitor page costs the request path (issue 15: within 5 %).

One Daphne worker (embedded defaults: SQLite, in-memory channel layer — the single-process
default, where publisher and subscriber share the worker) relays streaming chat completions
from the mock Paddler, alternately without and with monitor pages open. A page is a websocket
subscriber signed in as staff (it receives every request's events), here a minimal client that
reads and counts frames. Each configuration runs ``--rounds`` times, interleaved, and the
medians are compared: relayed tokens/s and the worker's CPU per stream.

    .venv/bin/python -m bench.monitor_overhead [--duration 8] [--rounds 3] [--pages 1]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import tempfile
import threading
from pathlib import Path
from typing import Any

from bench.deployment import Deployment
from bench.load_run import run_http_load
from bench.run import mock_process
from bench.scenarios import chat_body

TOKENS = 64
STAFF_SESSION = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
user = User.objects.create_user("bench-staff", is_staff=True)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


class MonitorPages:
    """``count`` websocket subscribers on /ws/monitor/, on a thread of their own."""

    def __init__(self, port: int, session_key: str, count: int) -> None:
        self.port, self.session_key, self.count = port, session_key, count
        self.frames = 0
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),), daemon=True)
        self._ready = threading.Event()

    def __enter__(self) -> MonitorPages:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the monitor websocket did not open")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        pages = [await self._open() for _ in range(self.count)]
        self._ready.set()
        readers = [asyncio.ensure_future(self._read(reader)) for reader, _ in pages]
        await self._stop.wait()
        for task in readers:
            task.cancel()
        for _, writer in pages:
            writer.close()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ws/monitor/ HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: http://127.0.0.1:{self.port}\r\nCookie: sessionid={self.session_key}\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"websocket refused: {head[:200]!r}")
        return reader, writer

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:  # server frames are unmasked; payload length 7, 16 or 64 bits
            _, second = await reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            await reader.readexactly(length)
            self.frames += 1


def measure(server_url: str, api_key: str, server_pid: int, *, body: bytes, duration: float) -> dict[str, float]:
    result = run_http_load(
        f"{server_url}/v1/chat/completions",
        body=body,
        headers=[f"Authorization: Bearer {api_key}"],
        concurrency=10,
        duration=duration,
        watched={"server": server_pid},
    )
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} failed requests")
    return {
        "tokens_per_second": result["requests_per_second"] * TOKENS,
        "server_cpu_ms_per_stream": result["server_cpu_ms_per_request"],
    }


def run(*, duration: float, rounds: int, pages: int) -> dict[str, Any]:
    log_dir = Path(tempfile.mkdtemp(prefix="oarlock-monitor-bench-"))
    report: dict[str, Any] = {"duration": duration, "rounds": rounds, "pages": pages, "scenarios": {}}
    with mock_process(log_dir) as mock:
        deployment = Deployment.prepare("sqlite", upstream_url=mock.url)
        session_key = deployment.manage("shell", "-c", STAFF_SESSION).strip().splitlines()[-1]
        with deployment.server("daphne", log_dir=log_dir) as server:
            for name, body in (
                ("burst", chat_body(tokens=TOKENS, stream=True)),
                ("paced_5ms", chat_body(tokens=TOKENS, stream=True, delay_ms=5)),
            ):
                measure(server.url, deployment.api_key, server.pid, body=body, duration=2)  # warm-up
                runs: dict[str, list[dict[str, float]]] = {"without": [], "with": []}
                frames = 0
                for _ in range(rounds):
                    runs["without"].append(
                        measure(server.url, deployment.api_key, server.pid, body=body, duration=duration)
                    )
                    with MonitorPages(server.port, session_key, pages) as monitor:
                        runs["with"].append(
                            measure(server.url, deployment.api_key, server.pid, body=body, duration=duration)
                        )
                    frames += monitor.frames
                report["scenarios"][name] = _summary(runs, frames)
    return report


def _summary(runs: dict[str, list[dict[str, float]]], frames: int) -> dict[str, Any]:
    median = {
        mode: {metric: statistics.median(r[metric] for r in results) for metric in results[0]}
        for mode, results in runs.items()
    }
    return {
        "runs": runs,
        "median": median,
        "monitor_frames_received": frames,
        "tokens_per_second_ratio": median["with"]["tokens_per_second"] / median["without"]["tokens_per_second"],
        "cpu_per_stream_ratio": median["with"]["server_cpu_ms_per_stream"]
        / median["without"]["server_cpu_ms_per_stream"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=1)
    args = parser.parse_args()
    report = run(duration=args.duration, rounds=args.rounds, pages=args.pages)
    print(json.dumps(report, indent=2))
    for name, scenario in report["scenarios"].items():
        print(
            f"{name}: tokens/s with/without = {scenario['tokens_per_second_ratio']:.3f}, "
            f"server CPU per stream with/without = {scenario['cpu_per_stream_ratio']:.3f}, "
            f"monitor frames received = {scenario['monitor_frames_received']}"
        )


if __name__ == "__main__":
    main()
