"""The in-flight journal: what it takes to bill a request whose worker dies before it ends.

The usage writer's journal holds finished requests. A request still running when its worker
is SIGKILLed has no record yet, so it is journalled here from admission on: its identity
(request id, tenant, key, model, endpoint, start), the prompt estimate made at admission, the
admission plan (to settle its budget later), and, at most every ``checkpoint_seconds``, the
tokens relayed so far. An entry is closed once the request's finished record is in the writer's
journal (``recorded``, with the tokens it bills) and its admission is settled (``released``);
an entry recorded but not released when its process died only has its admission settled. The next writer to start for this database adopts a dead process's journal
(same ``flock`` scheme as ``usage_journal``) and writes an ``interrupted`` record for every
entry still open; the record's unique request id makes that exactly once.

Bounded loss. The event loop only queues an entry; a thread writes it within one wake-up and,
with ``fsync`` on, fsyncs within ``journal_fsync.FSYNC_INTERVAL_SECONDS`` (one fsync shared by
everything written meanwhile). A SIGKILL loses: a request admitted in the last few milliseconds
(not yet written), and of every other request the tokens relayed since its last checkpoint — at
most ``checkpoint_seconds`` of its stream. A machine crash loses at most that plus the last
fsync interval, as long as the disk honours fsync; with ``fsync`` off, whatever the kernel had
not written back.

File: one JSON line per event — ``{"o": entry}`` opened, ``{"p": [id, content, reasoning,
tool_call, undeterminable, time]}`` progress, ``{"u": [id, fields]}`` updated, ``{"r": [[id, billed], …]}`` recorded, ``{"x": id}``
released (with the finished draft, in case its record never reached the writer's journal),
``{"c": [ids]}`` closed. When the file grows past
``COMPACT_BYTES`` it is rewritten with the open entries alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from usage.journal_fsync import PacedFsync
from usage.usage_record_draft import UsageRecordDraft

logger = logging.getLogger(__name__)

COMPACT_BYTES = 4 * 1024 * 1024
COUNTER_KINDS = ("content", "reasoning", "tool_call", "undeterminable")


@dataclass(slots=True)
class InFlightEntry:
    """One admitted request as journalled; ``counted`` is the last checkpoint's tokens."""

    request_id: str
    fields: dict[str, Any]
    counted: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    checkpointed_at: float = 0.0
    # Tokens of the finished record, once it is in the writer's journal.
    recorded_tokens: int | None = None
    released: bool = False
    # The finished record, journalled with the release when it came before the record.
    finished_draft: dict[str, Any] | None = None

    @property
    def awaits_release(self) -> bool:
        return bool(self.fields.get("admissions")) and not self.released

    def line(self) -> str:
        return _dump(
            {
                "o": {
                    **self.fields,
                    "request_id": self.request_id,
                    "counted": self.counted,
                    "checkpointed_at": self.checkpointed_at,
                    "recorded_tokens": self.recorded_tokens,
                    "released": self.released,
                    "finished_draft": self.finished_draft,
                }
            }
        )


# Returns the counters of a live request (content, reasoning, tool_call, undeterminable).
CounterSnapshot = Callable[[], Sequence[int]]


class InFlightJournal:
    """One per process; ``opened``/``recorded``/``released`` are cheap and never block on the disk."""

    def __init__(self, *, checkpoint_seconds: float = 1.0, fsync: bool = True) -> None:
        self.checkpoint_seconds = checkpoint_seconds
        self.fsync = fsync
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._live: dict[str, CounterSnapshot] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.path: Path | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, directory: Path, database: str, *, checkpoint_seconds: float, fsync: bool) -> None:
        with self._lock:
            if self.running:
                return
            self.checkpoint_seconds, self.fsync = checkpoint_seconds, fsync
            file = _JournalFile(directory, database, fsync=self.fsync)
            file.open()
            self.path = file.path
            self._thread = threading.Thread(target=self._run, args=(file,), name="usage-inflight", daemon=True)
            self._thread.start()

    def opened(self, request_id: str, fields: dict[str, Any], counters: CounterSnapshot) -> None:
        """Journal an admitted request (again: its fields are updated); ``counters`` is read at
        each checkpoint."""
        if not self.running:
            return
        if request_id in self._live:
            self._inbox.put(("update", (request_id, fields)))
            return
        self._live[request_id] = counters
        self._inbox.put(("open", InFlightEntry(request_id, fields, checkpointed_at=time.time())))

    def recorded(self, records: Iterable[tuple[str, int]]) -> None:
        """These requests' finished records (request id, billed tokens) are safe in the
        writer's journal."""
        done = [(request_id, billed) for request_id, billed in records if self._live.pop(request_id, None) is not None]
        if done and self.running:
            self._inbox.put(("recorded", done))

    def released(self, request_id: str, draft: UsageRecordDraft | None) -> None:
        """This request's admission is settled (to ``draft``'s tokens, its finished record)."""
        if self.running:
            self._inbox.put(("released", (request_id, draft)))

    def sync(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is on disk (tests, benchmarks)."""
        if not self.running:
            return True
        done = threading.Event()
        self._inbox.put(("sync", done))
        return done.wait(timeout)

    def stop(self, *, keep_open_entries: bool = True) -> None:
        """Stop the thread; the file stays for replay if requests are still open."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._inbox.put(("stop", keep_open_entries))
        thread.join(10)

    def _run(self, file: _JournalFile) -> None:
        entries: dict[str, InFlightEntry] = {}
        next_checkpoint = time.monotonic() + self.checkpoint_seconds
        keep = True
        try:
            while True:
                timeout = max(0.0, next_checkpoint - time.monotonic())
                items = _drain(self._inbox, min(timeout, file.pacer.due_in() or timeout))
                lines, waiters, stop = _apply(items, entries)
                if time.monotonic() >= next_checkpoint:
                    lines += self._checkpoint(entries)
                    next_checkpoint = time.monotonic() + self.checkpoint_seconds
                file.write("".join(lines), entries)
                file.pacer.sync_if_due()
                if waiters:
                    file.pacer.sync()
                for waiter in waiters:
                    waiter.set()
                if stop is not None:
                    keep = stop
                    return
        except Exception:
            logger.exception("the usage in-flight journal stopped; requests from now on are not journalled")
        finally:
            file.close(empty=not (entries and keep))

    def _checkpoint(self, entries: dict[str, InFlightEntry]) -> list[str]:
        lines = []
        now = time.time()
        for request_id, entry in entries.items():
            counters = self._live.get(request_id)
            if counters is None:
                continue
            counted = list(counters())
            if counted != entry.counted:
                entry.counted, entry.checkpointed_at = counted, now
                lines.append(_dump({"p": [request_id, *counted, round(now, 3)]}))
        return lines


def _drain(inbox: queue.SimpleQueue[tuple[str, Any]], timeout: float) -> list[tuple[str, Any]]:
    items = []
    try:
        items.append(inbox.get(timeout=timeout))
        while True:
            items.append(inbox.get_nowait())
    except queue.Empty:
        pass
    return items


def _apply(
    items: list[tuple[str, Any]], entries: dict[str, InFlightEntry]
) -> tuple[list[str], list[threading.Event], bool | None]:
    lines: list[str] = []
    waiters: list[threading.Event] = []
    stop: bool | None = None
    for kind, value in items:
        if kind == "open":
            entries[value.request_id] = value
            lines.append(value.line())
        elif kind == "update":
            request_id, fields = value
            if request_id in entries:
                entries[request_id].fields.update(fields)
                lines.append(_dump({"u": [request_id, fields]}))
        elif kind == "recorded":
            lines += _mark_recorded(value, entries)
        elif kind == "released":
            lines += _mark_released(value, entries)
        elif kind == "sync":
            waiters.append(value)
        elif kind == "stop":
            stop = value
    return lines, waiters, stop


def _mark_recorded(records: list[tuple[str, int]], entries: dict[str, InFlightEntry]) -> list[str]:
    closed, waiting = [], []
    for request_id, billed in records:
        entry = entries.get(request_id)
        if entry is None:
            continue
        entry.recorded_tokens = billed
        if entry.awaits_release:
            waiting.append([request_id, billed])
        else:
            closed.append(request_id)
            del entries[request_id]
    return ([_dump({"r": waiting})] if waiting else []) + ([_dump({"c": closed})] if closed else [])


def _mark_released(value: tuple[str, UsageRecordDraft | None], entries: dict[str, InFlightEntry]) -> list[str]:
    request_id, draft = value
    entry = entries.get(request_id)
    if entry is None:
        return []
    if entry.recorded_tokens is not None:
        del entries[request_id]
        return [_dump({"c": [request_id]})]
    entry.released = True
    entry.finished_draft = None if draft is None else draft.to_json()
    return [_dump({"x": request_id, "d": entry.finished_draft})]


class _JournalFile:
    """The process's journal file and its lock (held for the life of the process)."""

    def __init__(self, directory: Path, database: str, *, fsync: bool) -> None:
        name = f"{database}-inflight-{os.getpid()}-{secrets.token_hex(4)}"
        self._directory = directory
        self.path = directory / f"{name}.jsonl"
        self._lock_path = directory / f"{name}.lock"
        self._fsync = fsync
        self.pacer = PacedFsync(enabled=fsync)
        self._lock_file: IO[bytes] | None = None
        self._descriptor: int | None = None
        self._size = 0

    def open(self) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        self._lock_file = self._lock_path.open("wb")
        fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if self._fsync:
            _fsync_directory(self._directory)

    def write(self, text: str, entries: dict[str, InFlightEntry]) -> None:
        if not text:
            return
        assert self._descriptor is not None
        data = text.encode("utf-8")
        _write_all(self._descriptor, data)
        self._size += len(data)
        if self._size >= COMPACT_BYTES:
            self._compact(entries)
        else:
            self.pacer.wrote(self._descriptor)

    def _compact(self, entries: dict[str, InFlightEntry]) -> None:
        """Rewrite the file with the open entries alone (written aside, then swapped)."""
        assert self._descriptor is not None
        temporary = self.path.with_suffix(".compact")
        data = "".join(entry.line() for entry in entries.values()).encode("utf-8")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(descriptor, data)
            if self._fsync:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, self.path)
        self.pacer.forget()
        os.close(self._descriptor)
        self._descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._size = len(data)
        if self._fsync:
            _fsync_directory(self._directory)

    def close(self, *, empty: bool) -> None:
        if self._descriptor is not None:
            self.pacer.sync()
            os.close(self._descriptor)
            self._descriptor = None
        if empty:
            self.path.unlink(missing_ok=True)
            self._lock_path.unlink(missing_ok=True)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def read_open_entries(path: Path) -> list[InFlightEntry]:
    """The entries of a journal file that were never closed, with their last checkpoint."""
    entries: dict[str, InFlightEntry] = {}
    with contextlib.suppress(FileNotFoundError), path.open(encoding="utf-8") as journal:
        for number, line in enumerate(journal, start=1):
            if not line.endswith("\n"):
                break  # the process died mid-line
            try:
                _replay_line(json.loads(line), entries)
            except (ValueError, KeyError, TypeError, IndexError) as error:
                logger.error("usage in-flight journal %s line %s is unreadable: %s", path, number, error)
    return list(entries.values())


def _replay_line(event: dict[str, Any], entries: dict[str, InFlightEntry]) -> None:
    if "o" in event:
        fields = dict(event["o"])
        request_id = fields.pop("request_id")
        counted = [int(value) for value in fields.pop("counted", [0, 0, 0, 0])]
        entry = InFlightEntry(request_id, fields, counted, float(fields.pop("checkpointed_at", 0.0)))
        entry.recorded_tokens = fields.pop("recorded_tokens", None)
        entry.released = bool(fields.pop("released", False))
        entry.finished_draft = fields.pop("finished_draft", None)
        entries[request_id] = entry
    elif "p" in event:
        request_id, *counted = event["p"]
        progressed = entries.get(request_id)
        if progressed is not None:
            progressed.counted = [int(value) for value in counted[:4]]
            progressed.checkpointed_at = float(counted[4]) if len(counted) > 4 else progressed.checkpointed_at
    elif "u" in event:
        request_id, fields = event["u"]
        if request_id in entries:
            entries[request_id].fields.update(fields)
    elif "r" in event:
        for request_id, billed in event["r"]:
            if request_id in entries:
                entries[request_id].recorded_tokens = int(billed)
    elif "x" in event:
        if event["x"] in entries:
            entries[event["x"]].released = True
            entries[event["x"]].finished_draft = event.get("d")
    elif "c" in event:
        for request_id in event["c"]:
            entries.pop(request_id, None)


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":")) + "\n"


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# The process's journal: started with the usage writer.
inflight_journal = InFlightJournal()
