"""Just enough HTTP/1.1 for Paddler's inference service: one request per TCP connection.

Paddler runs actix with keep-alive disabled (protocol reference 1.1), so a connection pool buys
nothing, and httpx's layers — the pool, anyio cancel scopes, h11 events and four nested async
iterators per body chunk — cost more CPU than all the rest of relaying a token (bench/RESULTS.md).
This sends one request and reads its response with one ``read`` per network arrival, decoding
``Transfer-Encoding: chunked`` (how actix streams NDJSON), a ``Content-Length`` body, or a body
that ends with the connection.

Failures are plain: ``TimeoutError`` (connect or read timeout), ``OSError`` (could not connect,
reset, or no valid response head: ``MalformedResponse``), ``IncompleteBody`` (the peer closed
before the body's end), ``UpstreamProtocolError`` (broken chunk framing). ``PaddlerClient``
maps them to the typed ``inference.errors``.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from paddler_protocol.errors import UpstreamProtocolError

READ_SIZE: Final = 64 * 1024
MAX_HEAD_BYTES: Final = 64 * 1024
# A chunk-size line is a few hex digits (plus rare extensions): anything longer is not HTTP.
MAX_SIZE_LINE_BYTES: Final = 1024


class MalformedResponse(ConnectionError):
    """The upstream answered something that is not an HTTP/1.x response head."""


class IncompleteBody(Exception):
    """The connection ended before the response body did."""


@dataclass(frozen=True, slots=True)
class HttpOrigin:
    host: str
    port: int
    tls: bool
    base_path: str

    @classmethod
    def from_url(cls, url: str) -> HttpOrigin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Not an http(s) URL: {url!r}")
        tls = parts.scheme == "https"
        return cls(parts.hostname, parts.port or (443 if tls else 80), tls, parts.path.rstrip("/"))

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        return host if self.port == default else f"{host}:{self.port}"


async def send_request(
    origin: HttpOrigin,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    connect_timeout: float,
    read_timeout: float,
) -> StreamedResponse:
    """Connect, send, and return once the response head is in (the body is read later)."""
    async with asyncio.timeout(connect_timeout):
        reader, writer = await asyncio.open_connection(
            origin.host,
            origin.port,
            ssl=_tls_context() if origin.tls else None,
            limit=MAX_HEAD_BYTES,
        )
    try:
        lines = [f"{method} {origin.base_path}{path} HTTP/1.1", f"Host: {origin.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        async with asyncio.timeout(read_timeout):
            await writer.drain()
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as error:
                raise MalformedResponse("The upstream closed the connection without a response") from error
            except asyncio.LimitOverrunError as error:
                raise MalformedResponse("The upstream's response head is too large") from error
        status, response_headers = _parse_head(head)
        return StreamedResponse(status, response_headers, reader, writer, read_timeout)
    except BaseException:
        writer.close()
        raise


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Building one loads the system CA store (~20 ms of blocking work on the event loop), and
    # a context is meant to be shared by connections: build it once per process, on first use.
    return ssl.create_default_context()


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise MalformedResponse(f"Not an HTTP/1.x status line: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise MalformedResponse(f"Not a header line: {line[:80]!r}")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return int(code), headers


class StreamedResponse:
    """A response whose body is read as it arrives; ``close`` hangs up at once."""

    __slots__ = ("status", "headers", "_reader", "_writer", "_read_timeout", "_chunked", "_remaining", "_done")

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        read_timeout: float,
    ) -> None:
        self.status = status
        self.headers = headers
        self._reader = reader
        self._writer = writer
        self._read_timeout = read_timeout
        self._chunked: ChunkedBody | None = None
        # Bytes of a Content-Length body still to come; None: until the chunked end or EOF.
        self._remaining: int | None = None
        self._done = False
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._chunked = ChunkedBody()
        elif "content-length" in headers:
            try:
                self._remaining = int(headers["content-length"])
            except ValueError as error:
                raise MalformedResponse("Invalid Content-Length") from error
            if self._remaining < 0:
                raise MalformedResponse("Invalid Content-Length")
            self._done = self._remaining == 0

    async def read_some(self) -> bytes | None:
        """Body bytes from the next network arrival (maybe ``b""``: framing only); None at the end."""
        if self._done:
            return None
        async with asyncio.timeout(self._read_timeout):
            data = await self._reader.read(READ_SIZE)
        if self._chunked is not None:
            if not data:
                raise IncompleteBody()
            payload = self._chunked.feed(data)
            self._done = self._chunked.finished
            return payload
        if self._remaining is not None:
            if not data:
                raise IncompleteBody()
            data = data[: self._remaining]
            self._remaining -= len(data)
            self._done = self._remaining == 0
            return data
        if not data:
            self._done = True
            return None
        return data

    def close(self) -> None:
        self._done = True
        self._writer.close()


# The decoder's states: the chunk-size line, its data, the CRLF after it, trailers, done.
_SIZE, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


class ChunkedBody:
    """Incremental ``Transfer-Encoding: chunked`` decoder: ``feed`` bytes, get the payload back.

    It runs once per relayed token, so it parses the arriving bytes in place and keeps only an
    unfinished tail between calls.
    """

    __slots__ = ("_tail", "_remaining", "_state")

    def __init__(self) -> None:
        self._tail = b""
        self._remaining = 0
        self._state = _SIZE

    @property
    def finished(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> bytes:
        if self._tail:
            data = self._tail + data
        state, remaining = self._state, self._remaining
        payload: list[bytes] = []
        position = 0
        length = len(data)
        while True:
            if state == _SIZE:
                end = data.find(b"\r\n", position)
                if end < 0:
                    if length - position > MAX_SIZE_LINE_BYTES:
                        raise UpstreamProtocolError("The upstream sent a malformed chunked body")
                    break
                remaining = _chunk_size(data[position:end])
                position = end + 2
                state = _DATA if remaining else _TRAILER
            elif state == _DATA:
                take = min(remaining, length - position)
                if take == 0:
                    break
                payload.append(data[position : position + take])
                position += take
                remaining -= take
                if remaining:
                    break
                state = _DATA_END
            elif state == _DATA_END:
                if length - position < 2:
                    break
                if data[position : position + 2] != b"\r\n":
                    raise UpstreamProtocolError("The upstream sent a malformed chunked body")
                position += 2
                state = _SIZE
            elif state == _TRAILER:  # trailer lines until an empty one
                end = data.find(b"\r\n", position)
                if end < 0:
                    # Trailers are header fields: cap them like the head, not buffer them forever.
                    if length - position > MAX_HEAD_BYTES:
                        raise UpstreamProtocolError("The upstream sent a malformed chunked body")
                    break
                state = _DONE if end == position else _TRAILER
                position = end + 2
            else:
                break
        self._state, self._remaining = state, remaining
        self._tail = data[position:] if state != _DONE else b""
        return payload[0] if len(payload) == 1 else b"".join(payload)


def _chunk_size(line: bytes) -> int:
    try:
        size = int(line, 16)
    except ValueError:
        # Chunk extensions (";name=value") are allowed and meaningless here.
        text = line.split(b";", 1)[0].strip()
        try:
            size = int(text, 16) if text else -1
        except ValueError:
            size = -1
    if size < 0:
        raise UpstreamProtocolError("The upstream sent a malformed chunked body")
    return size
