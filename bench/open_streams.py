"""Scenario 4's client: hold many streams open at once, then hang up on all of them.

Opens ``--streams`` connections (in batches, so the listen backlog is not the thing measured),
sends a streaming request on each for a slow answer, and waits until every stream has received
its first event. Then it prints ``READY <json>`` and keeps reading (and discarding) events until
a line arrives on stdin or ``--hold`` seconds pass, closes every connection — which must cancel
every upstream generation — and prints ``DONE <json>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time

from bench.http_load import build_target


async def open_stream(
    host: str, port: int, request: bytes, opened: list[float], started: float, failures: list[str]
) -> asyncio.StreamWriter | None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            failures.append(head.split(b"\r\n", 1)[0].decode(errors="replace"))
            writer.close()
            return None
        if not await reader.read(65536):
            failures.append("closed before the first event")
            writer.close()
            return None
        opened.append(time.perf_counter() - started)
        asyncio.get_running_loop().create_task(_drain(reader))
        return writer
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
        failures.append(type(error).__name__)
        return None


async def _drain(reader: asyncio.StreamReader) -> None:
    try:
        while await reader.read(65536):
            pass
    except (OSError, asyncio.CancelledError):
        pass


async def wait_for_stdin_line(timeout: float) -> None:
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), timeout)
    except TimeoutError:
        pass


async def run(args: argparse.Namespace) -> None:
    with open(args.body_file, "rb") as body_file:
        target = build_target(args.url, body_file.read(), args.header)
    started = time.perf_counter()
    opened: list[float] = []
    failures: list[str] = []
    writers: list[asyncio.StreamWriter] = []
    for first in range(0, args.streams, args.batch):
        batch = range(first, min(first + args.batch, args.streams))
        results = await asyncio.gather(
            *(open_stream(target.host, target.port, target.request, opened, started, failures) for _ in batch)
        )
        writers.extend(writer for writer in results if writer is not None)
    ready = {
        "open": len(writers),
        "failures": len(failures),
        "failure_kinds": sorted(set(failures))[:5],
        "seconds_to_open_all": time.perf_counter() - started,
    }
    print("READY " + json.dumps(ready), flush=True)
    await wait_for_stdin_line(args.hold)
    for writer in writers:
        writer.close()
    await asyncio.sleep(0.2)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        "DONE " + json.dumps({"closed": len(writers), "client_cpu_seconds": usage.ru_utime + usage.ru_stime}),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--hold", type=float, default=60.0, help="upper bound on the hold, seconds")
    args = parser.parse_args()
    args.hold = min(args.hold, 300.0)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
