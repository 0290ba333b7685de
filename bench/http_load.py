"""A small HTTP/1.1 load client on raw asyncio streams, for streaming (and wrk-less) scenarios.

Each of ``--concurrency`` workers keeps one keep-alive connection and sends the same POST again
and again until ``--duration`` seconds or ``--max-requests`` requests, whichever comes first. Per
request it records the time to the first body byte (for an SSE answer: the first event, which
Oarlock only sends once Paddler's first token is in) and the time to the end of the body. Bodies
are not parsed — only framed (content-length, chunked, or until close) and their SSE events
counted with one ``bytes.count`` — so the client stays cheap next to the server it measures.
It prints one JSON object with the percentiles and its own CPU time (``resource.getrusage``).

    python -m bench.http_load --url http://127.0.0.1:8070/v1/chat/completions \\
        --body-file body.json --header "Authorization: Bearer oar_..." --concurrency 10 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from bench.latency_summary import summarize

LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "::1")
_LAST_CHUNK: Final = b"\r\n0\r\n\r\n"


class ConnectionClosed(Exception):
    """The server closed the connection (a response said ``Connection: close``, or it hung up)."""


@dataclass
class Results:
    first_byte: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    body_bytes: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int
    request: bytes


def build_target(url: str, body: bytes, headers: list[str]) -> Target:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK_HOSTS:
        raise SystemExit("the load client only targets loopback addresses")
    port = parts.port or 80
    path = parts.path or "/"
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {parts.hostname}:{port}",
        "Content-Type: application/json",
        "Accept: */*",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return Target(parts.hostname, port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)


async def read_response(reader: asyncio.StreamReader, started: float, results: Results) -> bool:
    """Read one response; record its timings. Returns whether the connection may be reused."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    headers = header_block.lower()
    keep_alive = b"connection: close" not in headers
    first_byte: float | None = None
    parts: list[bytes] = []
    if b"transfer-encoding: chunked" in headers:
        tail = b""
        while True:
            data = await reader.read(65536)
            if not data:
                raise ConnectionClosed()
            if first_byte is None:
                first_byte = time.perf_counter()
            parts.append(data)
            tail = (tail + data)[-len(_LAST_CHUNK) :]
            if tail == _LAST_CHUNK or (len(parts) == 1 and data == b"0\r\n\r\n"):
                break
    elif b"content-length:" in headers:
        length = int(headers.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        body = await reader.readexactly(length)
        first_byte = time.perf_counter()
        parts.append(body)
    else:
        while data := await reader.read(65536):
            if first_byte is None:
                first_byte = time.perf_counter()
            parts.append(data)
        keep_alive = False
    ended = time.perf_counter()
    if status != 200:
        results.error(f"status_{status}")
        return keep_alive
    body = b"".join(parts)
    results.first_byte.append((first_byte or ended) - started)
    results.total.append(ended - started)
    results.events.append(body.count(b"data: "))
    results.body_bytes += len(body)
    return keep_alive


async def worker(target: Target, deadline: float, budget: list[int], results: Results) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(target.host, target.port)
                assert reader is not None
                started = time.perf_counter()
                writer.write(target.request)
                if not await read_response(reader, started, results):
                    writer.close()
                    reader = writer = None
            except (OSError, ConnectionClosed, asyncio.IncompleteReadError) as error:
                results.error(type(error).__name__)
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.01)
    finally:
        if writer is not None:
            writer.close()


async def run(target: Target, *, concurrency: int, duration: float, max_requests: int) -> dict[str, object]:
    results = Results()
    budget = [max_requests]
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(worker(target, deadline, budget, results) for _ in range(concurrency)))
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    completed = len(results.total)
    return {
        "concurrency": concurrency,
        "completed": completed,
        "errors": results.errors,
        "wall_seconds": wall,
        "requests_per_second": completed / wall if wall > 0 else 0.0,
        "first_byte_ms": summarize(results.first_byte),
        "total_ms": summarize(results.total),
        "events_per_response": (sum(results.events) / completed) if completed else 0.0,
        "body_bytes": results.body_bytes,
        "client_cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with open(args.body_file, "rb") as body_file:
        target = build_target(args.url, body_file.read(), args.header)
    summary = asyncio.run(
        run(target, concurrency=args.concurrency, duration=min(args.duration, 600.0), max_requests=args.max_requests)
    )
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
