"""Just enough RESP for the limit store: commands pipelined on one Redis connection per loop.

Admission sends three round trips per request (the cheap limits, the token reservation, the
releases). Through ``redis.asyncio`` each cost 104–120 µs of CPU against 39 µs for the round
trip itself (a PING on a bare asyncio socket; ``bench/RESULTS.md``): its connection pool,
retry wrapper, command parser and pipeline objects, per call. Like ``inference/upstream_http.py``
for Paddler, this speaks only what the store needs, as one ``asyncio.Protocol``:

* every caller writes to the same connection and waits for its replies in order (Redis answers
  a connection's commands in the order they came), so concurrent requests share one socket and
  often one wake-up;
* ``execute`` sends commands in one write and returns every reply in order, a ``ReplyError``
  in place of a command Redis refused (a pipeline's semantics; nothing is raised for those);
* the connection is opened on first use (``AUTH`` and ``SELECT`` as the URL says) and again
  after it was lost: a Redis restart costs the calls in flight, not the next ones;
* a command without a reply in ``command_timeout`` fails with ``TimeoutError`` and closes the
  connection, so every call behind it learns at once that Redis is gone instead of each
  waiting out its own timeout.

Failures are ``OSError`` (could not connect, connection lost: ``ConnectionError``) and
``TimeoutError``; a reply that is not RESP is a lost connection too.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

Command = Sequence[str | bytes | int]
_CRLF: Final = b"\r\n"


class ReplyError(Exception):
    """Redis refused a command (``-ERR …``, ``-NOSCRIPT …``): its message, as Redis sent it."""

    @property
    def code(self) -> str:
        return str(self.args[0]).split(" ", 1)[0]


class RespClient:
    """One lazily opened connection to the Redis a ``redis://``, ``rediss://`` or ``unix://`` URL names."""

    def __init__(self, url: str, *, connect_timeout: float, command_timeout: float) -> None:
        self._address = _Address.from_url(url)
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._connection: _RespConnection | None = None
        self._connecting: asyncio.Future[_RespConnection] | None = None

    async def execute(self, *commands: Command) -> list[Any]:
        """Each command's reply in order; a ``ReplyError`` in place of a refused one."""
        connection = self._connection
        if connection is None or connection.lost:
            connection = await self._connect()
        replies = connection.send(commands)
        try:
            async with asyncio.timeout(self._command_timeout):
                return [await reply for reply in replies]
        except TimeoutError:
            connection.close()
            raise

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    async def _connect(self) -> _RespConnection:
        # Callers that arrive while a connection is being opened wait for that one.
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
        connecting = self._connecting
        try:
            connection = await asyncio.shield(connecting)
        finally:
            if connecting.done() and self._connecting is connecting:
                self._connecting = None
        return connection

    async def _open(self) -> _RespConnection:
        loop = asyncio.get_running_loop()
        address = self._address
        async with asyncio.timeout(self._connect_timeout):
            if address.unix_path is not None:
                _, connection = await loop.create_unix_connection(_RespConnection, address.unix_path)
            else:
                _, connection = await loop.create_connection(
                    _RespConnection, address.host, address.port, ssl=_tls_context() if address.tls else None
                )
            greetings: list[Command] = []
            if address.password is not None:
                greetings.append(
                    ("AUTH", address.username, address.password) if address.username else ("AUTH", address.password)
                )
            if address.db:
                greetings.append(("SELECT", address.db))
            try:
                for reply in connection.send(greetings):
                    if isinstance(await reply, ReplyError):
                        raise ConnectionError(f"Redis refused the connection's set-up: {await reply}")
            except BaseException:
                connection.close()
                raise
        self._connection = connection
        return connection


class _RespConnection(asyncio.Protocol):
    """One socket: commands written as they come, replies handed out in the same order."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._buffer = bytearray()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a stream transport: create_connection's

    def send(self, commands: Sequence[Command]) -> list[asyncio.Future[Any]]:
        if self.lost or self._transport is None:
            raise ConnectionError("The Redis connection is closed")
        loop = asyncio.get_running_loop()
        replies = [loop.create_future() for _ in commands]
        self._waiting.extend(replies)
        self._transport.write(b"".join(_encode(command) for command in commands))
        return replies

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        position = 0
        try:
            while self._waiting:
                parsed = _parse(buffer, position)
                if parsed is None:
                    break
                reply, position = parsed
                waiter = self._waiting.popleft()
                if not waiter.done():  # its caller may have been cancelled
                    waiter.set_result(reply)
        except ValueError as error:
            self._fail(ConnectionError(f"Redis sent something that is not RESP: {error}"))
            return
        del buffer[:position]
        if buffer and not self._waiting:
            self._fail(ConnectionError("Redis sent a reply nobody asked for"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"Redis closed the connection: {exc}" if exc else "Redis closed the connection"))

    def close(self) -> None:
        self._fail(ConnectionError("The Redis connection was closed after a timeout"))

    def _fail(self, error: Exception) -> None:
        self.lost = True
        if self._transport is not None:
            self._transport.close()
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(error)


def _encode(command: Command) -> bytes:
    parts = [b"*%d\r\n" % len(command)]
    for argument in command:
        value = argument if isinstance(argument, bytes) else str(argument).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(value), value))
    return b"".join(parts)


def _parse(buffer: bytearray, position: int) -> tuple[Any, int] | None:
    """The reply that starts at ``position`` and where the next one starts; None: incomplete."""
    end = buffer.find(_CRLF, position)
    if end < 0:
        return None
    kind, line = buffer[position], bytes(buffer[position + 1 : end])
    position = end + 2
    if kind == 0x3A:  # ":" integer
        return int(line), position
    if kind == 0x24:  # "$" bulk string, or nil
        size = int(line)
        if size < 0:
            return None, position
        if len(buffer) < position + size + 2:
            return None
        return bytes(buffer[position : position + size]), position + size + 2
    if kind == 0x2A:  # "*" array, or nil
        count = int(line)
        if count < 0:
            return None, position
        items = []
        for _ in range(count):
            parsed = _parse(buffer, position)
            if parsed is None:
                return None
            item, position = parsed
            items.append(item)
        return items, position
    if kind == 0x2B:  # "+" simple string
        return line.decode(), position
    if kind == 0x2D:  # "-" error
        return ReplyError(line.decode(errors="replace")), position
    raise ValueError(f"unknown reply type {chr(kind)!r}")


@dataclass(frozen=True, slots=True)
class _Address:
    host: str
    port: int
    tls: bool
    unix_path: str | None
    username: str | None
    password: str | None
    db: int

    @classmethod
    def from_url(cls, url: str) -> _Address:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"Not a redis://, rediss:// or unix:// URL: {parts.scheme}://…")
        query = parse_qs(parts.query)
        db_text = query.get("db", [""])[0] or (parts.path.lstrip("/") if parts.scheme != "unix" else "")
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or 6379,
            tls=parts.scheme == "rediss",
            unix_path=parts.path if parts.scheme == "unix" else None,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            db=int(db_text or 0),
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the system CA store blocks for ~20 ms: once per process, on first use.
    return ssl.create_default_context()
