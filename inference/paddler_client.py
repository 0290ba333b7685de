"""Async client for Paddler's NDJSON inference routes (protocol reference 1.1-1.7, 9.2).

One ``PaddlerClient`` per upstream. Each generation is a ``PaddlerStream``: entering it sends
the POST on a connection of its own (Paddler disables keep-alive), iterating it yields parsed
lines up to and including the terminal one, and closing it closes the connection — which is how
Paddler learns that the caller went away and stops generating (reference 1.7). The HTTP is
``inference/upstream_http.py``; every transport failure surfaces as one of the typed
``inference.errors`` exceptions.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from types import TracebackType

from inference.errors import (
    LocalEngineStopped,
    LocalEngineUnavailable,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from inference.upstream_http import (
    HttpOrigin,
    IncompleteBody,
    StreamedResponse,
    send_request,
)
from paddler_protocol.conversation_params import ConversationParams, RawPromptParams
from paddler_protocol.errors import UpstreamProtocolError
from paddler_protocol.inference_routes import CONVERSATION_HISTORY_PATH, HEALTH_PATH, RAW_PROMPT_PATH
from paddler_protocol.ndjson_lines import NdjsonLines
from paddler_protocol.paddler_message import PaddlerLine, is_terminal, parse_line

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 2.0
# Enough of a plain-text rejection (actix's "Json deserialize error: ...") to explain it.
REJECTION_BODY_CHARS = 1000

_REQUEST_HEADERS = (
    ("Content-Type", "application/json"),
    # Paddler runs actix with keep-alive disabled (reference 1.1): say so instead of offering a
    # connection it will close anyway. No Origin header: actix-cors would reject an unlisted one.
    ("Connection", "close"),
    ("User-Agent", "oarlock"),
)
_HEALTH_HEADERS = (("Connection", "close"), ("User-Agent", "oarlock"))


class PaddlerClient:
    """The inference service of one Paddler balancer."""

    def __init__(
        self,
        inference_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        local_engine: bool = False,
    ) -> None:
        base_url = inference_url.rstrip("/")
        self.inference_url = base_url
        # The local engine behind ``make serve``: its failures name it and say it is restarting.
        self.local_engine = local_engine
        self._origin = HttpOrigin.from_url(base_url)
        self._connect_timeout = connect_timeout
        # The gap allowed between two chunks; Paddler itself gives up after its
        # --inference-item-timeout (30 s by default) and says so with an Error line.
        self._read_timeout = read_timeout

    def continue_from_conversation_history(self, params: ConversationParams) -> PaddlerStream:
        return PaddlerStream(self, CONVERSATION_HISTORY_PATH, params.encoded())

    def continue_from_raw_prompt(self, params: RawPromptParams) -> PaddlerStream:
        return PaddlerStream(self, RAW_PROMPT_PATH, params.encoded())

    async def check_health(self) -> bool:
        """Whether Paddler's ``GET /health`` answers 200 within about two seconds. Never raises."""
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
                response = await send_request(
                    self._origin,
                    "GET",
                    HEALTH_PATH,
                    headers=_HEALTH_HEADERS,
                    connect_timeout=HEALTH_TIMEOUT_SECONDS,
                    read_timeout=HEALTH_TIMEOUT_SECONDS,
                )
        except (TimeoutError, OSError) as error:
            logger.debug("Paddler health check of %s failed: %r", self.inference_url, error)
            return False
        response.close()
        return response.status == 200

    async def open_response(self, path: str, body: bytes) -> StreamedResponse:
        """POST ``body`` to ``path``; the response head is in, the body is still to read."""
        return await send_request(
            self._origin,
            "POST",
            path,
            body=body,
            headers=_REQUEST_HEADERS,
            connect_timeout=self._connect_timeout,
            read_timeout=self._read_timeout,
        )

    async def aclose(self) -> None:
        """Nothing to release: every request has its own connection, closed with its stream."""


class PaddlerStream:
    """One generation: an async context manager and an async iterator of ``PaddlerLine``.

    ``request_id`` and ``generated_by`` follow the lines read so far (``generated_by`` keeps the
    agent's name when a later ``Error`` envelope, which has none, arrives).
    """

    __slots__ = (
        "_client",
        "_path",
        "_body",
        "_response",
        "_opened",
        "_lines",
        "_ready",
        "_finished",
        "request_id",
        "generated_by",
    )

    def __init__(self, client: PaddlerClient, path: str, body: bytes) -> None:
        self._client = client
        self._path = path
        # Compact, UTF-8 and NaN-free: exactly what serde_json on the other side accepts.
        self._body = body
        self._response: StreamedResponse | None = None
        self._opened = False
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
        if self._opened or self._finished:
            raise RuntimeError("A PaddlerStream can be opened only once")
        self._opened = True
        try:
            response = await self._client.open_response(self._path, self._body)
        except TimeoutError as error:
            raise UpstreamTimeout() from error
        except OSError as error:
            raise (LocalEngineUnavailable() if self._client.local_engine else UpstreamUnavailable()) from error
        self._response = response
        if response.status != 200:
            try:
                body = await _read_rejection(response)
            finally:
                await self.aclose()
            raise UpstreamRejected(response.status, body)
        return self

    @property
    def line_ready(self) -> bool:
        """A complete line is buffered: the next ``__anext__`` returns without reading."""
        return bool(self._ready) and not self._finished

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
        """Wait for the next arrival from upstream and queue the lines it completes."""
        response = self._response
        if response is None:
            if not self._opened:
                raise RuntimeError("Open the PaddlerStream (async with) before iterating it")
            raise UpstreamProtocolError("The inference upstream stream is closed.")
        try:
            data = await response.read_some()
        except TimeoutError as error:
            await self.aclose()
            raise UpstreamTimeout() from error
        except IncompleteBody as error:
            # The peer closed mid-body (e.g. an incomplete chunked read): the agent or balancer
            # went away before the terminal line.
            await self.aclose()
            raise self._ended_early() from error
        except OSError as error:
            await self.aclose()
            raise (LocalEngineStopped() if self._client.local_engine else UpstreamUnavailable()) from error
        except BaseException:
            # CancelledError above all: the caller is gone, so close upstream (which cancels the
            # generation on Paddler) before letting it through; UpstreamProtocolError for broken
            # chunk framing.
            await self.aclose()
            raise
        if data is None:
            tail = self._lines.finish()
            if tail is None:
                await self.aclose()
                raise self._ended_early()
            self._ready.append(tail)
            return
        if data:
            try:
                lines = self._lines.feed(data)
            except UpstreamProtocolError:  # an endless line: hang up like every other failure
                await self.aclose()
                raise
            self._ready.extend(lines)

    def _ended_early(self) -> UpstreamProtocolError:
        if self._client.local_engine:  # its process died: the supervisor says why and restarts it
            return LocalEngineStopped()
        return UpstreamProtocolError("The inference upstream ended the stream without a terminal message.")

    async def aclose(self) -> None:
        """Close the connection now (idempotent); Paddler stops generating for a closed one."""
        self._finished = True
        response, self._response = self._response, None
        if response is not None:
            response.close()


async def _read_rejection(response: StreamedResponse) -> str:
    """The start of a non-200 body (actix answers those in plain text)."""
    limit = REJECTION_BODY_CHARS * 4  # bytes enough for that many UTF-8 characters
    received = bytearray()
    try:
        while len(received) < limit and (data := await response.read_some()) is not None:
            received += data
    except (TimeoutError, OSError, IncompleteBody, UpstreamProtocolError) as error:
        logger.debug("Reading Paddler's rejection body failed: %r", error)
    text = received[:limit].decode("utf-8", errors="replace").strip()
    return text[:REJECTION_BODY_CHARS]
