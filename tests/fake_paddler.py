"""A scripted fake Paddler inference service for the test suite (protocol reference 1.1-1.8).

A real HTTP server on 127.0.0.1: an ASGI app served by uvicorn in a background thread with its
own event loop, so sync tests, async tests and a separate gateway process can all talk to it.
It is as strict as Paddler about request bodies, writes the exact NDJSON framing, replays the
replies a test scripts (FIFO, one per inference request), records what it received, and notices
when its client hangs up mid-stream — the observable effect of a cancelled generation.

    fake = FakePaddlerServer().start()
    fake.script(plain_content("Hi", "!"))
    ...
    assert fake.last_body["max_tokens"] == 2000
    fake.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import uvicorn

from paddler_protocol.errors import RequestRejected
from paddler_protocol.inference_routes import CONVERSATION_HISTORY_PATH, HEALTH_PATH, RAW_PROMPT_PATH
from paddler_protocol.paddler_message import PaddlerLine, encode_line
from paddler_protocol.request_body import check_request
from tests.fake_paddler_reply import (
    DropConnection,
    HttpFailure,
    RawLine,
    Reply,
    ScriptedReply,
    Sleep,
    Step,
    new_paddler_request_id,
)
from tests.fake_paddler_scripts import plain_content

__all__ = [
    "DropConnection",
    "FakePaddler",
    "FakePaddlerServer",
    "HttpFailure",
    "RawLine",
    "ReceivedRequest",
    "Reply",
    "Sleep",
    "Step",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

INFERENCE_PATHS = frozenset({CONVERSATION_HISTORY_PATH, RAW_PROMPT_PATH})
_TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
_STREAM_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-cache")]
_END_OF_BODY: Message = {"type": "http.response.body", "body": b"", "more_body": False}


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One inference request as the fake received it (``body`` is None when it was not JSON)."""

    path: str
    body: dict[str, Any] | None
    headers: dict[str, str]


class _ConnectionDropped(Exception):
    """Raised after the headers to make uvicorn cut the connection mid-body."""


class _HideDeliberateDrops(logging.Filter):
    """uvicorn logs an app exception as an error; a scripted ``DropConnection`` is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _ConnectionDropped))


class _Records:
    """Scripts and observations, shared by the test thread and the server thread."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.replies: deque[ScriptedReply] = deque()
        self.requests: list[ReceivedRequest] = []
        self.disconnects = 0
        self.lines_sent_before_disconnect: int | None = None
        # Bumped by reset(): a stream still running from an earlier test cannot leak into
        # the records of the next one.
        self.epoch = 0


class FakePaddlerServer:
    """The fake's public face; every method is safe to call from any thread."""

    def __init__(self) -> None:
        self._records = _Records()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, *, timeout: float = 10.0) -> Self:
        """Serve on a free port of 127.0.0.1 and return once it accepts connections."""
        if self._server is not None:
            raise RuntimeError("The fake Paddler is already running")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Binding port 0 here (not in uvicorn) gives the port without a probe-then-bind race.
        listener.bind(("127.0.0.1", 0))
        self._port = listener.getsockname()[1]
        config = uvicorn.Config(
            _FakePaddlerApp(self._records),
            http="h11",
            ws="none",
            loop="asyncio",
            lifespan="off",
            # Leave the test process's logging alone; keep uvicorn's own chatter (startup,
            # access lines) out of test output.
            log_config=None,
            log_level="warning",
            access_log=False,
        )
        server = uvicorn.Server(config)
        _install_log_filter()
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="fake-paddler", daemon=True)
        thread.start()
        self._server, self._thread = server, thread
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("The fake Paddler did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.should_exit = True
        # Do not wait for streams a test left sleeping; they are cancelled with the loop.
        server.force_exit = True
        thread.join(timeout=10.0)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # --- scripting --------------------------------------------------------------------------

    def script(self, *replies: ScriptedReply) -> None:
        """Queue replies, answered in order, one per inference request (then the default)."""
        with self._records.changed:
            self._records.replies.extend(replies)

    def reset(self) -> None:
        """Forget scripts and records (a fixture calls this between tests)."""
        records = self._records
        with records.changed:
            records.replies.clear()
            records.requests.clear()
            records.disconnects = 0
            records.lines_sent_before_disconnect = None
            records.epoch += 1
            records.changed.notify_all()

    # --- observations -------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._records.changed:
            return list(self._records.requests)

    @property
    def last_body(self) -> dict[str, Any] | None:
        with self._records.changed:
            requests = self._records.requests
            return requests[-1].body if requests else None

    @property
    def disconnects(self) -> int:
        """How many clients hung up before their reply was fully written."""
        with self._records.changed:
            return self._records.disconnects

    @property
    def lines_sent_before_disconnect(self) -> int | None:
        """NDJSON lines of the reply written before its client hung up (last such reply)."""
        with self._records.changed:
            return self._records.lines_sent_before_disconnect

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        with self._records.changed:
            return self._records.changed.wait_for(lambda: len(self._records.requests) >= count, timeout)

    def wait_for_disconnect(self, timeout: float = 5.0) -> bool:
        """Whether a client hung up mid-stream (now, or within ``timeout`` seconds)."""
        with self._records.changed:
            return self._records.changed.wait_for(lambda: self._records.disconnects > 0, timeout)

    # The blocking waits above would stall an async test's own event loop; these do not.

    async def wait_for_requests_async(self, count: int, timeout: float = 5.0) -> bool:
        return await asyncio.to_thread(self.wait_for_requests, count, timeout)

    async def wait_for_disconnect_async(self, timeout: float = 5.0) -> bool:
        return await asyncio.to_thread(self.wait_for_disconnect, timeout)


# The name the shared contracts and fixtures use.
FakePaddler = FakePaddlerServer


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, _HideDeliberateDrops) for existing in logger.filters):
        logger.addFilter(_HideDeliberateDrops())


class _FakePaddlerApp:
    """The ASGI application: routes, strict decoding, scripted streaming."""

    def __init__(self, records: _Records) -> None:
        self._records = records

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == HEALTH_PATH and method == "GET":
            await _send_text(send, 200, "OK")
        elif path in INFERENCE_PATHS and method == "POST":
            await self._inference(scope, receive, send)
        else:
            await _send_text(send, 404, "")

    async def _inference(self, scope: Scope, receive: Receive, send: Send) -> None:
        records = self._records
        with records.changed:
            epoch = records.epoch
        raw_body, hung_up = await _read_body(receive)
        if hung_up:
            self._record_disconnect(epoch, lines_sent=0)
            return
        path = scope["path"]
        headers = _headers(scope)
        try:
            body = check_request(path, headers.get("content-type"), raw_body)
        except RequestRejected as rejection:
            self._record_request(epoch, ReceivedRequest(path, _json_object(raw_body), headers))
            await _send_text(send, rejection.status, rejection.body)
            return
        self._record_request(epoch, ReceivedRequest(path, body, headers))
        # Only a request Paddler accepts reaches generation, so only it takes a scripted reply.
        reply = self._next_reply(epoch)
        if isinstance(reply, HttpFailure):
            await _send_text(send, reply.status, reply.text)
        else:
            await self._stream(reply, epoch, receive, send)

    def _record_request(self, epoch: int, request: ReceivedRequest) -> None:
        records = self._records
        with records.changed:
            if epoch == records.epoch:
                records.requests.append(request)
                records.changed.notify_all()

    def _next_reply(self, epoch: int) -> ScriptedReply:
        records = self._records
        with records.changed:
            if records.replies and epoch == records.epoch:
                return records.replies.popleft()
        return plain_content()

    def _record_disconnect(self, epoch: int, *, lines_sent: int) -> None:
        records = self._records
        with records.changed:
            if epoch == records.epoch:
                records.disconnects += 1
                records.lines_sent_before_disconnect = lines_sent
                records.changed.notify_all()

    async def _stream(self, reply: Reply, epoch: int, receive: Receive, send: Send) -> None:
        request_id = reply.request_id or new_paddler_request_id()
        await send({"type": "http.response.start", "status": 200, "headers": _STREAM_HEADERS})
        hung_up = asyncio.Event()
        watcher = asyncio.create_task(_watch_for_hang_up(receive, hung_up))
        lines_sent = 0
        try:
            for step in reply.steps:
                if hung_up.is_set():
                    self._record_disconnect(epoch, lines_sent=lines_sent)
                    return
                if isinstance(step, Sleep):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(hung_up.wait(), step.seconds)
                    continue
                if isinstance(step, DropConnection):
                    raise _ConnectionDropped()
                if isinstance(step, RawLine):
                    line = step.body + b"\n"
                else:
                    line = encode_line(PaddlerLine(step, request_id, reply.generated_by))
                await send({"type": "http.response.body", "body": line, "more_body": True})
                lines_sent += 1
                # uvicorn writes without yielding; yield so a hang-up is noticed between lines.
                await asyncio.sleep(0)
            if hung_up.is_set():  # during a trailing Sleep: the loop above no longer checks
                self._record_disconnect(epoch, lines_sent=lines_sent)
                return
            await send(_END_OF_BODY)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def _watch_for_hang_up(receive: Receive, hung_up: asyncio.Event) -> None:
    """ASGI reports the client going away as ``http.disconnect`` on the receive channel."""
    while (await receive())["type"] != "http.disconnect":
        pass
    hung_up.set()


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body, and whether the client hung up before sending it all."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(parts), True
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts), False


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _json_object(raw_body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw_body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def _send_text(send: Send, status: int, text: str) -> None:
    """A plain-text answer, the way actix writes its errors."""
    await send({"type": "http.response.start", "status": status, "headers": _TEXT_HEADERS})
    await send({"type": "http.response.body", "body": text.encode(), "more_body": False})
