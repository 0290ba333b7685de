"""The least a gateway on Daphne can cost: an ASGI app that passes bytes through, nothing more.

For the benchmark's "pass-through on Daphne" target, measured beside Oarlock in the same run.
Each POST is sent, body unchanged, to the mock's OpenAI endpoint (``BENCH_UPSTREAM_URL``) on a
new connection (Paddler closes every one), and the answer is relayed chunk by chunk as it
arrives. No authentication, no parsing, no limits, no usage, no log line, no Django: what is
left is Daphne (Twisted, the ASGI hand-off) and the upstream connection. Oarlock's numbers
minus these are what Oarlock itself costs; a target below these cannot be met on Daphne.

Not product code: nothing imports it but the benchmark's server command.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import urlsplit

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_UPSTREAM: Final = urlsplit(os.environ.get("BENCH_UPSTREAM_URL", "http://127.0.0.1:1"))
_HOST: Final = _UPSTREAM.hostname or "127.0.0.1"
_PORT: Final = _UPSTREAM.port or 80
_MODELS: Final = b'{"object":"list","data":[{"id":"bench","object":"model","owned_by":"bench"}]}'


async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] != "POST":
        await _answer(send, 200, b"application/json", _MODELS)
        return
    body = await _read_body(receive)
    reader, writer = await asyncio.open_connection(_HOST, _PORT)
    try:
        writer.write(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: %s:%d\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (_HOST.encode(), _PORT, len(body), body)
        )
        head = (await reader.readuntil(b"\r\n\r\n")).lower()
        status = int(head.split(b" ", 2)[1])
        headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
        content_type = headers.get(b"content-type", b"application/json")
        if b"chunked" not in headers.get(b"transfer-encoding", b""):
            await _answer(send, status, content_type, await reader.readexactly(int(headers[b"content-length"])))
            return
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            chunk = await reader.readexactly(size + 2)
            await send({"type": "http.response.body", "body": chunk[:-2], "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        writer.close()


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


async def _answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
