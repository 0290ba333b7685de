"""The ASGI app: Paddler's inference routes over HTTP (protocol reference 1, 1.1, 1.5, 1.7).

``GET /health`` answers ``OK``. The two generation routes check the body the way actix does
(``Content-Type: application/json``, 2 MiB limit, strict fields) and answer refusals with a
plain-text 4xx. An accepted request gets ``200`` with ``Content-Type: application/json`` and
``Cache-Control: no-cache`` at once; everything after that — waiting for a slot, tokens,
errors — is NDJSON lines written with ``encode_line``. A client that disconnects cancels the
stream, which stops generation before the next token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import string
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from local_engine.inference_engine import InferenceEngine
from paddler_protocol.conversation_params import ConversationParams, RawPromptParams
from paddler_protocol.errors import RequestRejected
from paddler_protocol.paddler_message import PaddlerLine, encode_line
from paddler_protocol.request_body import (
    MAX_BODY_BYTES,
    is_json_media_type,
    parse_conversation_params,
    parse_raw_prompt_params,
    too_large_message,
)

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
BodyParser = Callable[[bytes], ConversationParams | RawPromptParams]

_REQUEST_ID_ALPHABET = string.ascii_letters + string.digits + "_-"
_GENERATION_ROUTES: dict[str, BodyParser] = {
    "/api/v1/continue_from_conversation_history": parse_conversation_params,
    "/api/v1/continue_from_raw_prompt": parse_raw_prompt_params,
}
_STREAM_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-cache")]


def new_request_id() -> str:
    """Like the balancer's ``nanoid!()``: 21 characters of ``A-Za-z0-9_-``."""
    return "".join(secrets.choice(_REQUEST_ID_ALPHABET) for _ in range(21))


class LocalEngineApp:
    def __init__(self, engine: InferenceEngine, *, agent_name: str | None) -> None:
        self.engine = engine
        self._agent_name = agent_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match scope["type"]:
            case "lifespan":
                await self._lifespan(receive, send)
            case "http":
                await self._http(scope, receive, send)
            case "websocket":  # Paddler's inference socket is not offered
                await send({"type": "websocket.close", "code": 1008})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.engine.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/health" and method == "GET":
            await _plain(send, 200, "OK")
        elif path in _GENERATION_ROUTES and method == "POST":
            await self._generate(scope, receive, send, _GENERATION_ROUTES[path])
        else:
            await _plain(send, 404, "")

    async def _generate(self, scope: Scope, receive: Receive, send: Send, parse: BodyParser) -> None:
        try:
            _check_content_type(scope)
            body = await _read_body(scope, receive)
            if body is None:
                return  # the client left while sending its body
            params = parse(body)
        except RequestRejected as rejected:
            logger.info("local engine refused %s: %d %s", scope["path"], rejected.status, rejected.body)
            await _plain(send, rejected.status, rejected.body)
            return
        request_id = new_request_id()
        await send({"type": "http.response.start", "status": 200, "headers": _STREAM_HEADERS})
        pump = asyncio.create_task(self._pump(params, request_id, send))
        watcher = asyncio.create_task(_wait_for_disconnect(receive))
        try:
            done, _ = await asyncio.wait({pump, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if pump not in done:
                logger.info("local engine request %s: client disconnected", request_id)
        finally:
            for task in (pump, watcher):
                task.cancel()
            for task in (pump, watcher):
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _pump(self, params: ConversationParams | RawPromptParams, request_id: str, send: Send) -> None:
        async with contextlib.aclosing(self.engine.stream(params, request_id=request_id)) as stream:
            async for message in stream:
                line = PaddlerLine(message, request_id=request_id, generated_by=self._agent_name)
                await send({"type": "http.response.body", "body": encode_line(line), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _check_content_type(scope: Scope) -> None:
    content_type = dict(scope["headers"]).get(b"content-type")
    if not is_json_media_type(None if content_type is None else content_type.decode("latin-1")):
        raise RequestRejected(400, "Content type error")


async def _read_body(scope: Scope, receive: Receive) -> bytes | None:
    declared = dict(scope["headers"]).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestRejected(413, too_large_message(f" ({int(declared)} bytes)"))
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            raise RequestRejected(413, too_large_message(""))
        if not message.get("more_body", False):
            return bytes(body)


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
