"""The worker pool's connection table (oarlock/connection_balance.py): which worker leaves a new
connection to a peer. The pool itself is exercised in tests/acceptance/test_worker_pool.py."""

from __future__ import annotations

import time
from pathlib import Path
from unittest import mock

from oarlock import connection_balance
from oarlock.connection_balance import MAX_DEFERRALS, STALE_AFTER_SECONDS, ConnectionTable


def _table(tmp_path: Path, workers: int = 2) -> str:
    path = str(tmp_path / "connections")
    connection_balance.create_table(path, workers)
    return path


def test_a_worker_holding_more_leaves_the_next_connection_to_a_live_peer(tmp_path: Path) -> None:
    path = _table(tmp_path)
    first, second = ConnectionTable(path, 0), ConnectionTable(path, 1)
    first.opened()
    assert first.leave_to_a_peer()
    assert not second.leave_to_a_peer()
    second.opened()
    assert not first.leave_to_a_peer()  # even: either may take it


def test_a_peer_whose_heartbeat_stopped_is_not_waited_for(tmp_path: Path) -> None:
    path = _table(tmp_path)
    busy = ConnectionTable(path, 0)
    ConnectionTable(path, 1)  # beats once, holding nothing, then stops
    busy.opened()
    assert busy.leave_to_a_peer()
    a_while_later = time.monotonic_ns() + int(2 * STALE_AFTER_SECONDS * 1e9)
    with mock.patch("time.monotonic_ns", return_value=a_while_later):
        assert not busy.leave_to_a_peer()


def test_no_connection_is_left_waiting_for_more_than_a_few_rechecks(tmp_path: Path) -> None:
    path = _table(tmp_path)
    busy = ConnectionTable(path, 0)
    ConnectionTable(path, 1)  # holds nothing, but never accepts
    busy.opened()
    answers = [busy.leave_to_a_peer() for _ in range(MAX_DEFERRALS + 1)]
    assert answers == [True] * MAX_DEFERRALS + [False]
    assert busy.leave_to_a_peer()  # the next connection starts counting afresh


def test_a_dead_workers_connections_are_forgotten(tmp_path: Path) -> None:
    path = _table(tmp_path)
    survivor, dead = ConnectionTable(path, 0), ConnectionTable(path, 1)
    for _ in range(3):
        dead.opened()
    survivor.opened()
    assert not survivor.leave_to_a_peer()
    connection_balance.clear_slot(path, 1)
    replacement = ConnectionTable(path, 1)
    assert survivor.leave_to_a_peer()
    assert replacement.held == 0
