"""Stores finished Responses off the request path: a thread commits them in batches.

Saving each response in its own thread hop and transaction was ~22 % of a Responses stream's
CPU (bench/RESULTS.md). The request now only queues the row; one thread per process takes
whatever is queued and inserts it with one statement (``save_responses``): while one transaction commits, the
rows that arrive meanwhile gather for the next (group commit, no waiting on purpose).

Read-your-writes, as before the batching: ``submit`` returns a future that the writer resolves
once the row is committed, and the stream awaits it before it closes (an await, not a thread),
so a client that has read a response to the end can continue it at once on any worker. Until
then the id is "pending" here, and every reader in this process (``response_store._find``)
first waits for it.

Loss model, as before the batching: a stored response is a convenience, not billing data; a
row the database refuses is logged and dropped, a connection failure is retried a few times,
and the pending rows are committed at exit (``atexit``), not journalled across a crash.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import InterfaceError, OperationalError, connections

from compat_api.responses.response_store import ResponseToStore, save_responses
from foundation.paced_connection_check import PacedConnectionCheck

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
CONNECTION_ATTEMPTS = 4
WAIT_FOR_PENDING_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ResponseRow:
    content: ResponseToStore
    stored: threading.Event = field(default_factory=threading.Event)
    # The submitting event loop's future, resolved from the writer thread once committed.
    loop: asyncio.AbstractEventLoop | None = None
    committed: asyncio.Future[None] | None = None

    @property
    def id(self) -> str:
        return str(self.content.response["id"])


class _Stop:
    pass


class ResponseWriter:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[ResponseRow | _Stop] = queue.SimpleQueue()
        self._pending: dict[str, ResponseRow] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._connection_check = PacedConnectionCheck()

    def submit(
        self,
        *,
        tenant_id: int,
        response: Mapping[str, Any],
        input_items: Sequence[Mapping[str, Any]],
        response_json: str | None = None,
    ) -> asyncio.Future[None] | None:
        """Queue a finished response for storing. Never blocks, never touches the database.

        ``response_json``: the response as already serialised for the client, stored as is.
        Called on an event loop, returns a future done once the row is committed (or failed)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        row = ResponseRow(
            content=ResponseToStore(tenant_id, response, input_items, response_json),
            loop=loop,
            committed=loop.create_future() if loop is not None else None,
        )
        with self._lock:
            self._pending[row.id] = row
            self._start()
        self._queue.put(row)
        return row.committed

    def wait_until_stored(self, response_id: str, timeout: float = WAIT_FOR_PENDING_SECONDS) -> None:
        """Block (a sync caller's thread) until a response queued here is committed."""
        row = self._pending.get(response_id)
        if row is not None:
            row.stored.wait(timeout)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed (or dropped); False on timeout."""
        with self._lock:
            rows = list(self._pending.values())
        deadline = time.monotonic() + timeout
        return all(row.stored.wait(max(0.0, deadline - time.monotonic())) for row in rows)

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_Stop())
            self._thread.join(timeout=10.0)

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="response-writer", daemon=True)
        self._thread.start()
        atexit.register(self.stop)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[ResponseRow] = []
            item = self._queue.get()
            while True:
                if isinstance(item, _Stop):
                    stopping = True
                else:
                    batch.append(item)
                if len(batch) >= BATCH_SIZE:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
        connections.close_all()

    def _write(self, batch: list[ResponseRow]) -> None:
        try:
            self._commit(batch)
        except Exception:  # noqa: BLE001 - any refusal: the other rows are stored one by one
            # One refused row must not cost the others theirs: store them one by one.
            for row in batch:
                try:
                    self._commit([row])
                except Exception:
                    logger.exception("storing response %s failed", row.id)
        finally:
            # One wake-up per event loop and batch, not per row.
            committed: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            with self._lock:
                for row in batch:
                    self._pending.pop(row.id, None)
                    row.stored.set()
                    if row.loop is not None and row.committed is not None:
                        committed.setdefault(row.loop, []).append(row.committed)
            for loop, futures in committed.items():
                with contextlib.suppress(RuntimeError):  # that loop has closed meanwhile
                    loop.call_soon_threadsafe(_resolve, futures)

    def _commit(self, rows: list[ResponseRow]) -> None:
        for attempt in range(1, CONNECTION_ATTEMPTS + 1):
            try:
                self._connection_check.before_batch()
                save_responses([row.content for row in rows])
                return
            except (OperationalError, InterfaceError):
                connections.close_all()
                self._connection_check.failed()
                if attempt == CONNECTION_ATTEMPTS:
                    raise
                time.sleep(0.1 * 2**attempt)


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


# The process's writer: its thread starts with the first response to store.
response_writer = ResponseWriter()
