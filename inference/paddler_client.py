"""Async client for Paddler's NDJSON inference routes (protocol reference 1.1-1.7, 9.2).

One ``PaddlerClient`` (one ``httpx.AsyncClient``) per upstream. Each generation is a
``PaddlerStream``: entering it sends the POST, iterating it yields parsed lines up to and
including the terminal one, and closing it closes the HTTP response — which is how Paddler learns
that the caller went away and stops generating (reference 1.7). Every transport failure surfaces
as one of the typed ``inference.errors`` exceptions, never as an httpx one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from types import AsyncGeneratorType, TracebackType
from typing import Any

import httpx

from inference.conversation_params import ConversationParams, RawPromptParams
from inference.errors import (
    UpstreamProtocolError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from inference.ndjson_lines import NdjsonLines
from inference.paddler_message import PaddlerLine, is_terminal, parse_line

logger = logging.getLogger(__name__)

CONVERSATION_HISTORY_PATH = "/api/v1/continue_from_conversation_history"
RAW_PROMPT_PATH = "/api/v1/continue_from_raw_prompt"
HEALTH_PATH = "/health"
HEALTH_TIMEOUT_SECONDS = 2.0
# Enough of a plain-text rejection (actix's "Json deserialize error: ...") to explain it.
REJECTION_BODY_CHARS = 1000

_REQUEST_HEADERS = {
    "Content-Type": "application/json",
    # Paddler runs actix with keep-alive disabled (reference 1.1): say so instead of offering a
    # connection it will close anyway. No Origin header: actix-cors would reject an unlisted one.
    "Connection": "close",
}


class PaddlerClient:
    """The inference service of one Paddler balancer."""

    def __init__(
        self,
        inference_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        base_url = inference_url.rstrip("/")
        self.inference_url = base_url
        self._conversation_url = base_url + CONVERSATION_HISTORY_PATH
        self._raw_prompt_url = base_url + RAW_PROMPT_PATH
        self._health_url = base_url + HEALTH_PATH
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(
                connect=connect_timeout,
                # The gap allowed between two chunks; Paddler itself gives up after its
                # --inference-item-timeout (30 s by default) and says so with an Error line.
                read=read_timeout,
                write=read_timeout,
                pool=connect_timeout,
            ),
            # Every request is its own TCP connection (no keep-alive upstream), so the pool
            # must not cap concurrent streams nor keep idle sockets.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
            # The upstream is an internal service: ignore HTTP(S)_PROXY and friends.
            trust_env=False,
            follow_redirects=False,
            headers={"User-Agent": "oarlock"},
        )

    def continue_from_conversation_history(self, params: ConversationParams) -> PaddlerStream:
        return PaddlerStream(self._http, self._conversation_url, params.to_json())

    def continue_from_raw_prompt(self, params: RawPromptParams) -> PaddlerStream:
        return PaddlerStream(self._http, self._raw_prompt_url, params.to_json())

    async def check_health(self) -> bool:
        """Whether Paddler's ``GET /health`` answers 200 within about two seconds. Never raises."""
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
                response = await self._http.get(
                    self._health_url,
                    headers={"Connection": "close"},
                    timeout=HEALTH_TIMEOUT_SECONDS,
                )
        except (TimeoutError, httpx.HTTPError, httpx.InvalidURL) as error:
            logger.debug("Paddler health check of %s failed: %r", self._health_url, error)
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        await self._http.aclose()


class PaddlerStream:
    """One generation: an async context manager and an async iterator of ``PaddlerLine``.

    ``request_id`` and ``generated_by`` follow the lines read so far (``generated_by`` keeps the
    agent's name when a later ``Error`` envelope, which has none, arrives).
    """

    __slots__ = (
        "_http",
        "_url",
        "_body",
        "_response",
        "_chunks",
        "_lines",
        "_ready",
        "_finished",
        "request_id",
        "generated_by",
    )

    def __init__(self, http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> None:
        self._http = http
        self._url = url
        # Compact, UTF-8 and NaN-free: exactly what serde_json on the other side accepts.
        self._body = json.dumps(
            body, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
        self._response: httpx.Response | None = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._lines = NdjsonLines()
        self._ready: deque[bytes] = deque()
        self._finished = False
        self.request_id = ""
        self.generated_by: str | None = None

    async def __aenter__(self) -> PaddlerStream:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self) -> PaddlerStream:
        """Send the request and check the status; the body is read by iterating."""
        if self._response is not None or self._finished:
            raise RuntimeError("A PaddlerStream can be opened only once")
        request = self._http.build_request(
            "POST", self._url, content=self._body, headers=_REQUEST_HEADERS
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TimeoutException as error:
            raise UpstreamTimeout() from error
        except httpx.TransportError as error:
            raise UpstreamUnavailable() from error
        self._response = response
        if response.status_code != 200:
            try:
                body = await _read_rejection(response)
            finally:
                await self.aclose()
            raise UpstreamRejected(response.status_code, body)
        self._chunks = response.aiter_bytes()
        return self

    def __aiter__(self) -> PaddlerStream:
        return self

    async def __anext__(self) -> PaddlerLine:
        if self._finished:
            await self.aclose()
            raise StopAsyncIteration
        ready = self._ready
        while not ready:
            await self._read_more()
        try:
            line = parse_line(ready.popleft())
        except UpstreamProtocolError:
            await self.aclose()
            raise
        if line.request_id:
            self.request_id = line.request_id
        if line.generated_by is not None:
            self.generated_by = line.generated_by
        if is_terminal(line.message):
            # Paddler sends nothing after a terminal message; the next call closes and stops.
            self._finished = True
        return line

    async def _read_more(self) -> None:
        """Wait for the next chunk and queue the lines it completes."""
        if self._chunks is None:
            raise RuntimeError("Open the PaddlerStream (async with) before iterating it")
        try:
            chunk = await anext(self._chunks)
        except StopAsyncIteration:
            tail = self._lines.finish()
            if tail is None:
                await self.aclose()
                raise UpstreamProtocolError(
                    "The inference upstream ended the stream without a terminal message."
                ) from None
            self._ready.append(tail)
            return
        except httpx.TimeoutException as error:
            await self.aclose()
            raise UpstreamTimeout() from error
        except httpx.RemoteProtocolError as error:
            # The peer closed mid-body (e.g. an incomplete chunked read): the agent or balancer
            # went away before the terminal line.
            await self.aclose()
            raise UpstreamProtocolError(
                "The inference upstream ended the stream without a terminal message."
            ) from error
        except httpx.TransportError as error:
            await self.aclose()
            raise UpstreamUnavailable() from error
        except BaseException:
            # CancelledError above all: the caller is gone, so close upstream (which cancels the
            # generation on Paddler) before letting it through.
            await self.aclose()
            raise
        self._ready.extend(self._lines.feed(chunk))

    async def aclose(self) -> None:
        """Close the HTTP response now (idempotent); Paddler stops generating for a closed one."""
        self._finished = True
        chunks, self._chunks = self._chunks, None
        response, self._response = self._response, None
        try:
            # Finish the body iterator here rather than leave it to the garbage collector,
            # which may only get to it after the event loop is gone. (If another task is
            # inside it right now, closing the response below ends that read instead.)
            if isinstance(chunks, AsyncGeneratorType) and not chunks.ag_running:
                await chunks.aclose()
            if response is not None:
                await response.aclose()
        except httpx.HTTPError as error:
            # The connection is being thrown away; a failure to close it cleanly changes nothing.
            logger.debug("Closing the Paddler response failed: %r", error)


async def _read_rejection(response: httpx.Response) -> str:
    """The start of a non-200 body (actix answers those in plain text)."""
    limit = REJECTION_BODY_CHARS * 4  # bytes enough for that many UTF-8 characters
    received = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            received += chunk
            if len(received) >= limit:
                break
    except httpx.HTTPError as error:
        logger.debug("Reading Paddler's rejection body failed: %r", error)
    text = received.decode("utf-8", errors="replace").strip()
    return text[:REJECTION_BODY_CHARS]
