"""The transport for /v1/: bytes, headers and lifecycle; no OpenAI or business knowledge.

Channels routes /v1/ here instead of through Django's handler (design.md measured 5–8x more
requests per second). The consumer reads the body (capped), builds a Django request, awaits the
DRF view and writes the response — a stream chunk by chunk. The view runs in a task while the
consumer keeps reading the ASGI channel: ``http.disconnect`` cancels the task, which closes the
upstream response and so frees the Paddler slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from django.conf import settings
from django.http import HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.urls import Resolver404, resolve

from compat_api.error_envelope import SERVER_ERROR_MESSAGE, ErrorDescription, error_body
from compat_api.request_lifecycle import close_request
from compat_api.scope_request import request_from_scope
from foundation.request_context import current_request_id, new_request_id

logger = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
API_URLCONF = "compat_api.urls"


class ClientDisconnected(Exception):
    pass


class ApiConsumer:
    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = new_request_id()
        current_request_id.set(request_id)
        exchange = _Exchange(send, request_id)
        try:
            body = await _read_body(receive, settings.OARLOCK_MAX_REQUEST_BYTES)
        except ClientDisconnected:
            return
        if body is None:
            await exchange.send_response(_error_response(ErrorDescription(
                413, "invalid_request_error",
                f"Request body too large: the limit is {settings.OARLOCK_MAX_REQUEST_BYTES} bytes.",
                code="request_too_large",
            )))
            return
        request = request_from_scope(scope, body)
        serving = asyncio.ensure_future(exchange.serve(request))
        watching = asyncio.ensure_future(_wait_for_disconnect(receive))
        client_disconnected = False
        try:
            await asyncio.wait({serving, watching}, return_when=asyncio.FIRST_COMPLETED)
            if not serving.done():
                client_disconnected = True
                serving.cancel()
            with contextlib.suppress(asyncio.CancelledError, ClientDisconnected):
                await serving
        finally:
            watching.cancel()
            if not serving.done():
                serving.cancel()
            await close_request(
                request, client_disconnected=client_disconnected, status=exchange.status
            )


class _Exchange:
    """Writes one response: status and headers once, then the body."""

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self._request_id = request_id
        self.status = 500

    async def serve(self, request: Any) -> None:
        try:
            match = resolve(request.path_info, urlconf=API_URLCONF)
        except Resolver404:
            await self.send_response(_error_response(ErrorDescription(
                404, "invalid_request_error", f"Invalid URL ({request.method} {request.path})."
            )))
            return
        try:
            response = await match.func(request, *match.args, **match.kwargs)
        except Exception:
            logger.exception("the view failed outside its exception handler")
            response = _error_response(ErrorDescription(500, "server_error", SERVER_ERROR_MESSAGE))
        # x-ratelimit-* of the limits that admitted this request (accounts/admission.py).
        admission = getattr(getattr(request, "api_call", None), "admission", None)
        for name, value in (getattr(admission, "headers", None) or {}).items():
            response.setdefault(name, value)
        await self.send_response(response)

    async def send_response(self, response: HttpResponseBase) -> None:
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        self.status = response.status_code
        response["x-request-id"] = self._request_id
        if isinstance(response, StreamingHttpResponse):
            await self._send_stream(response)
            return
        body = response.content
        headers = _headers(response)
        headers.append((b"content-length", str(len(body)).encode()))
        await self._send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})

    async def _send_stream(self, response: StreamingHttpResponse) -> None:
        # sse_response() keeps its body here; closing Django's streaming_content wrapper instead
        # would not close the body, so a cancelled send would leave the upstream open.
        chunks: AsyncIterator[bytes] = getattr(response, "body_iterator", None) or response.streaming_content
        try:
            await self._send({
                "type": "http.response.start", "status": response.status_code, "headers": _headers(response),
            })
            async for chunk in chunks:
                await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
            await self._send({"type": "http.response.body", "body": b""})
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()


def _headers(response: HttpResponseBase) -> list[tuple[bytes, bytes]]:
    headers = [(name.lower().encode("latin-1"), str(value).encode("latin-1")) for name, value in response.items()]
    for cookie in response.cookies.values():
        headers.append((b"set-cookie", cookie.output(header="").strip().encode("latin-1")))
    return headers


def _error_response(description: ErrorDescription) -> JsonResponse:
    response = JsonResponse(error_body(description), status=description.status)
    for name, value in description.headers.items():
        response[name] = value
    return response


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` when it exceeds ``limit`` (the rest is drained unread)."""
    parts: list[bytes] = []
    size = 0
    too_large = False
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            too_large = True
            parts.clear()
        elif not too_large:
            parts.append(chunk)
        if not message.get("more_body", False):
            return None if too_large else b"".join(parts)


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
