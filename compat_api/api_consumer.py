"""The transport for /v1/: bytes, headers and lifecycle; no OpenAI or business knowledge.

Channels routes /v1/ here instead of through Django's handler (design.md measured 5–8x more
requests per second). The consumer resolves the route, lets the request's owner
(``compat_api/request_lifecycle.py``) authenticate, admit and read the body, awaits the DRF view
and writes the response — a stream chunk by chunk. The view runs in a task while the consumer
keeps reading the ASGI channel: ``http.disconnect`` cancels the task, which closes the upstream
response and so frees the Paddler slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

from django.http import HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.urls import Resolver404, ResolverMatch, resolve

from compat_api.error_envelope import SERVER_ERROR_MESSAGE, ErrorDescription, error_body
from compat_api.openai_api_view import InferenceApiView
from compat_api.request_lifecycle import ClientDisconnected, RequestLifecycle
from foundation.request_context import current_request_id, new_request_id

logger = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
API_URLCONF = "compat_api.urls"


class ApiConsumer:
    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = new_request_id()
        current_request_id.set(request_id)  # for log lines only (oarlock/log_filters.py)
        exchange = _Exchange(send, request_id)
        lifecycle = RequestLifecycle(scope=scope, receive=receive, request_id=request_id)
        client_disconnected = False
        try:
            client_disconnected = await _serve(exchange, lifecycle, scope, receive)
        finally:
            await lifecycle.close(client_disconnected=client_disconnected, status=exchange.status)


async def _serve(exchange: _Exchange, lifecycle: RequestLifecycle, scope: dict[str, Any], receive: Receive) -> bool:
    """Serve the request; True when the client went away before its answer was complete."""
    try:
        match = resolve(scope["path"], urlconf=API_URLCONF)
    except Resolver404:
        await exchange.send_response(
            _error_response(
                ErrorDescription(404, "invalid_request_error", f"Invalid URL ({scope['method']} {scope['path']}).")
            )
        )
        return False
    view_class = cast(Any, match.func).view_class  # as_view() marks the view it serves
    try:
        request = await lifecycle.begin(view_class)
    except ClientDisconnected:
        return True
    except Exception as error:  # noqa: BLE001 - every refusal is answered in OpenAI's envelope
        response = view_class().handle_refusal(error, lifecycle)
        await exchange.send_response(response, lifecycle.response_headers)
        return False
    serving = asyncio.ensure_future(exchange.serve(request, match, view_class, lifecycle))
    watching = asyncio.ensure_future(_wait_for_disconnect(receive))
    try:
        await asyncio.wait({serving, watching}, return_when=asyncio.FIRST_COMPLETED)
        client_disconnected = not serving.done()
        if client_disconnected:
            serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        return client_disconnected
    finally:
        watching.cancel()
        if not serving.done():
            serving.cancel()


class _Exchange:
    """Writes one response: status and headers once, then the body."""

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self._request_id = request_id
        self.status = 500

    async def serve(self, request: Any, match: ResolverMatch, view_class: Any, lifecycle: RequestLifecycle) -> None:
        try:
            if request.method == "POST" and issubclass(view_class, InferenceApiView):
                response = await view_class().serve(lifecycle)
            else:
                response = await match.func(request, *match.args, **match.kwargs)
        except Exception:
            logger.exception("the view failed outside its exception handler")
            response = _error_response(ErrorDescription(500, "server_error", SERVER_ERROR_MESSAGE))
        await self.send_response(response, lifecycle.response_headers)

    async def send_response(
        self, response: HttpResponse | StreamingHttpResponse, extra_headers: dict[str, str] | None = None
    ) -> None:
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        for name, value in (extra_headers or {}).items():
            response.setdefault(name, value)
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
        # Every /v1 stream has an async body, so Django's wrapper is async too.
        chunks: AsyncIterator[bytes] = getattr(response, "body_iterator", None) or response.streaming_content  # type: ignore[assignment]  # see above
        try:
            await self._send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": _headers(response),
                }
            )
            while True:
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except Exception:
                    # A failure the stream could not put in-band (its own error event failed).
                    # The body still ends: raised from here it would reach Daphne after the
                    # response started, which tries a second start and so stops the checker
                    # that reaps finished requests for the rest of the process's life, and the
                    # client would wait for a body that never ends.
                    logger.exception("the stream failed after its first byte")
                    break
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


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
