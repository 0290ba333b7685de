"""The HTTP response that carries an SSE body."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from django.http import StreamingHttpResponse


def sse_response(
    body: AsyncIterator[bytes], *, headers: Mapping[str, str] | None = None
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    # nginx and similar proxies buffer responses unless told not to.
    response["X-Accel-Buffering"] = "no"
    for name, value in (headers or {}).items():
        response[name] = value
    return response
