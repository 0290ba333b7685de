"""The worker pool's connection balance: a new connection goes to the worker holding fewest.

The pool's workers share one listening socket (oarlock/worker_pool.py) and the kernel wakes all
of them when connections arrive; whoever calls ``accept`` first gets them. Twisted takes every
pending connection in one wake-up (``tcp.Port.doRead``, up to 100 and growing), so a client or
proxy opening its ten keep-alive connections at once had all ten on one worker while the other
idled: two workers gave 1.00x one worker at c=10 (bench/RESULTS.md). Taking one connection per
wake-up alone was not enough: on two busy cores the first worker often drained the burst before
the second was scheduled (9 of 10 in tests/acceptance/test_worker_pool.py).

So each worker publishes how many connections it holds in a table the pool shares with all of
them (one small memory-mapped file), accepts one connection per wake-up, and leaves a
connection to a peer that holds fewer: it stops reading the socket for ``RECHECK_SECONDS`` and
looks again. A peer only counts while its heartbeat is fresh: a stopped, wedged or dead worker
is not waited for, and no connection waits more than ``MAX_DEFERRALS`` rechecks either way.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
from typing import Any, Final

from twisted.internet import task, tcp

# Per slot: connections held, heartbeat (monotonic ns; CLOCK_MONOTONIC is machine-wide).
_SLOT: Final = struct.Struct("qq")
# Each beat wakes an idle worker: at 50 a second an idle pool of two used 1.7–2.6 % of a core
# against 0.3 % for one worker (bench, 20 s idle). At 10 a second a peer stopped mid-beat is
# still waited for during half a second: each connection then costs at most MAX_DEFERRALS
# rechecks (5 ms) before this worker takes it.
HEARTBEAT_SECONDS: Final = 0.1
# A peer whose heartbeat is older than this is busy in one long step, stopped or dead.
STALE_AFTER_SECONDS: Final = 0.5
RECHECK_SECONDS: Final = 0.001
MAX_DEFERRALS: Final = 5

TABLE_ENV: Final = "OARLOCK_POOL_CONNECTION_TABLE"
SLOT_ENV: Final = "OARLOCK_POOL_SLOT"


def create_table(path: str, workers: int) -> None:
    """The pool's empty table for ``workers`` slots."""
    with open(path, "wb") as table:
        table.write(bytes(_SLOT.size * workers))


def clear_slot(path: str, slot: int) -> None:
    """Forget a dead worker's connections (its replacement starts from none)."""
    with open(path, "r+b") as table:
        table.seek(_SLOT.size * slot)
        table.write(bytes(_SLOT.size))


class ConnectionTable:
    """One worker's view of the shared table: it writes its own slot and reads the others."""

    def __init__(self, path: str, slot: int) -> None:
        with open(path, "r+b") as table:
            self._map = mmap.mmap(table.fileno(), 0)
        self.slot = slot
        self.size = len(self._map) // _SLOT.size
        self.held = 0
        self._deferrals = 0
        self.beat()

    def beat(self) -> None:
        _SLOT.pack_into(self._map, _SLOT.size * self.slot, self.held, time.monotonic_ns())

    def opened(self) -> None:
        self.held += 1
        self.beat()

    def closed(self) -> None:
        self.held -= 1
        self.beat()

    def leave_to_a_peer(self) -> bool:
        """Whether a live peer holds fewer connections and this one should let it accept."""
        if self._deferrals >= MAX_DEFERRALS:
            self._deferrals = 0
            return False
        fresh_after = time.monotonic_ns() - int(STALE_AFTER_SECONDS * 1e9)
        for slot in range(self.size):
            if slot == self.slot:
                continue
            held, heartbeat = _SLOT.unpack_from(self._map, _SLOT.size * slot)
            if heartbeat >= fresh_after and held < self.held:
                self._deferrals += 1
                return True
        self._deferrals = 0
        return False


def balance_connections_across_workers() -> None:
    """Under the pool (its table in the environment), make this process's listening port
    balanced; elsewhere nothing changes."""
    path, slot = os.environ.get(TABLE_ENV), os.environ.get(SLOT_ENV)
    if not path or slot is None:
        return
    table = ConnectionTable(path, int(slot))
    if table.size < 2:
        return  # a pool of one: nobody to balance with, Twisted's accept loop as it is
    accept = tcp.Port.doRead

    class CountedServer(tcp.Server):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            table.opened()

        def connectionLost(self, reason: Any) -> None:
            table.closed()
            super().connectionLost(reason)

    # ``Any``: Twisted's port methods carry no annotations.
    def resume(port: Any) -> None:
        if port.connected:  # not stopped listening meanwhile (shutdown)
            port.startReading()

    def do_read(port: Any) -> None:
        if table.leave_to_a_peer():
            port.stopReading()
            port.reactor.callLater(RECHECK_SECONDS, resume, port)
            return
        accept(port)  # type: ignore[no-untyped-call]  # Twisted's doRead has no annotations

    # ``doRead`` reads ``numberAccepts`` and writes it back after each call: a data descriptor
    # pins it to one (the write is ignored).
    tcp.Port.numberAccepts = property(lambda port: 1, lambda port, value: None)  # type: ignore[assignment]  # pinned, see above
    tcp.Port.transport = CountedServer  # type: ignore[assignment]  # Twisted declares the attribute as exactly Server
    tcp.Port.doRead = do_read  # type: ignore[method-assign]
    # The reactor Daphne installed before it loaded the application.
    task.LoopingCall(table.beat).start(HEARTBEAT_SECONDS, now=False)
