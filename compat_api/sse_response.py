"""The HTTP response that carries an SSE body."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from django.http import StreamingHttpResponse


def sse_response(body: AsyncIterator[bytes], *, headers: Mapping[str, str] | None = None) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream; charset=utf-8")
    # The consumer streams and closes this very iterator: Django's ``streaming_content`` is a
    # wrapper generator whose ``aclose()`` would leave ``body`` (and its upstream) open.
    response.body_iterator = body  # type: ignore[attr-defined]  # our own attribute, read by the consumer
    response["Cache-Control"] = "no-cache"
    # nginx and similar proxies buffer responses unless told not to.
    response["X-Accel-Buffering"] = "no"
    for name, value in (headers or {}).items():
        response[name] = value
    return response
