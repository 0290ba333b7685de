"""One streaming client of the chaos run: raw asyncio HTTP/1.1, cheap enough for 1,000 at once.

It sends one streaming request (chat or Responses), keeps its own log — the ``x-request-id``
the server answered with, the status, how many content tokens it received, whether it hung up
on purpose, whether the stream ended properly — and gives up after its timeout (a hang).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Literal

Endpoint = Literal["chat", "responses"]
_CHAT_TOKEN = b'"content":" lorem"'
_RESPONSES_TOKEN = b'"type":"response.output_text.delta"'


@dataclass(frozen=True, slots=True)
class ChaosRequest:
    index: int
    endpoint: Endpoint
    secret: str
    key_index: int
    tokens: int
    delay_ms: int
    drop_after: int | None
    # Hang up after this many received tokens (None: read to the end).
    disconnect_after: int | None
    timeout: float


@dataclass
class ClientLog:
    index: int
    endpoint: Endpoint
    key_index: int
    port: int = 0
    request_id: str = ""
    status: int = 0
    received: int = 0
    hung_up: bool = False
    finished: bool = False
    error: str = ""
    hung: bool = False
    started: float = field(default_factory=time.monotonic)
    ended: float = 0.0


def request_body(request: ChaosRequest) -> bytes:
    prompt = f"tokens={request.tokens} delay_ms={request.delay_ms}"
    if request.drop_after is not None:
        prompt += f" drop_after={request.drop_after}"
    if request.endpoint == "chat":
        body = {"model": "chaos", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    else:
        body = {"model": "chaos", "stream": True, "input": prompt}
    return json.dumps(body).encode()


async def run_client(request: ChaosRequest, port: int) -> ClientLog:
    log = ClientLog(request.index, request.endpoint, request.key_index, port=port)
    try:
        await asyncio.wait_for(_exchange(request, port, log), timeout=request.timeout)
    except TimeoutError:
        log.hung = True
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        log.error = type(error).__name__
    log.ended = time.monotonic()
    return log


async def _exchange(request: ChaosRequest, port: int, log: ClientLog) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        path = "/v1/chat/completions" if request.endpoint == "chat" else "/v1/responses"
        body = request_body(request)
        writer.write(
            f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {request.secret}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        _read_head(head, log)
        if log.status != 200:
            return
        await _read_stream(request, reader, log)
    finally:
        writer.close()


def _read_head(head: bytes, log: ClientLog) -> None:
    lines = head.decode("latin-1").split("\r\n")
    log.status = int(lines[0].split(" ")[1])
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "x-request-id":
            log.request_id = value.strip()


async def _read_stream(request: ChaosRequest, reader: asyncio.StreamReader, log: ClientLog) -> None:
    marker = _CHAT_TOKEN if request.endpoint == "chat" else _RESPONSES_TOKEN
    while True:
        line = await reader.readline()
        if not line:
            return  # cut without the end of the chunked body: not finished
        if line == b"0\r\n":
            log.finished = True
            return
        if marker in line:
            log.received += 1
            if request.disconnect_after is not None and log.received >= request.disconnect_after:
                log.hung_up = True
                return
