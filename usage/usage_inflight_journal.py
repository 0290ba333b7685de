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

Bounded loss. Each event's line is written when it happens, by the thread that reports it (the
event loop for a request's own events): into the kernel, so a SIGKILL loses nothing written. A
thread fsyncs, with ``fsync`` on, within ``journal_fsync.FSYNC_INTERVAL_SECONDS`` (one fsync
shared by everything written meanwhile), and checkpoints every live request's tokens every
``checkpoint_seconds``. A SIGKILL loses, of each running request, the tokens relayed since its
last checkpoint — at most ``checkpoint_seconds`` of its stream. A machine crash loses at most
that plus the last fsync interval, as long as the disk honours fsync; with ``fsync`` off,
whatever the kernel had not written back. (Writing on the loop costs one small ``write`` into
the page cache per event, as the request's log line does; handing each line to a thread cost
more: a wake-up and a GIL hand-off per event, measured by ``bench/thread_cpu.py``.)

File: one JSON line per event — ``{"o": entry}`` opened, ``{"p": [id, content, reasoning,
tool_call, undeterminable, time]}`` progress, ``{"u": [id, fields]}`` updated (the fields that changed), ``{"r": [[id, billed], …]}`` recorded, ``{"x": id}``
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
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from foundation.compact_json import ascii_compact_json
from usage.journal_fsync import FSYNC_INTERVAL_SECONDS, PacedFsync
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
    """One per process. ``opened``/``recorded``/``released`` write their line at once, from the
    calling thread (an append into the page cache, like the request's log line: no thread is
    woken per request); a thread fsyncs at a pace, checkpoints live requests and compacts."""

    def __init__(self, *, checkpoint_seconds: float = 1.0, fsync: bool = True) -> None:
        self.checkpoint_seconds = checkpoint_seconds
        self.fsync = fsync
        self._live: dict[str, CounterSnapshot] = {}
        self._entries: dict[str, InFlightEntry] = {}
        # Guards the file and the entries: the event loop, the usage writer's thread and the
        # journal's own thread all write.
        self._lock = threading.Lock()
        self._file: _JournalFile | None = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop_keeping: bool | None = None
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
            self._file, self._entries, self._live, self._stop_keeping = file, {}, {}, None
            self._wake.clear()
            self._thread = threading.Thread(target=self._run, name="usage-inflight", daemon=True)
            self._thread.start()

    def opened(self, request_id: str, fields: dict[str, Any], counters: CounterSnapshot) -> None:
        """Journal an admitted request (again: its fields are updated); ``counters`` is read at
        each checkpoint."""
        with self._lock:
            if self._file is None:
                return
            if request_id in self._live:
                entry = self._entries.get(request_id)
                # Only what changed goes in the line (admission adds a plan, then the prompt
                # estimate): replay applies it as an update of the fields it already has.
                if entry is not None:
                    changed = {name: value for name, value in fields.items() if entry.fields.get(name) != value}
                    if changed:
                        entry.fields.update(changed)
                        self._write(_dump({"u": [request_id, changed]}))
                return
            self._live[request_id] = counters
            entry = InFlightEntry(request_id, fields, checkpointed_at=time.time())
            self._entries[request_id] = entry
            self._write(entry.line())

    def recorded(self, records: Iterable[tuple[str, int]]) -> None:
        """These requests' finished records (request id, billed tokens) are safe in the
        writer's journal."""
        with self._lock:
            done = [
                (request_id, billed) for request_id, billed in records if self._live.pop(request_id, None) is not None
            ]
            if done and self._file is not None:
                self._write("".join(_mark_recorded(done, self._entries)))

    def released(self, request_id: str, draft: UsageRecordDraft | None) -> None:
        """This request's admission is settled (to ``draft``'s tokens, its finished record)."""
        with self._lock:
            if self._file is not None:
                self._write("".join(_mark_released((request_id, draft), self._entries)))

    def sync(self) -> None:
        """Put everything journalled so far on disk now (tests, benchmarks). Each line is in the
        kernel once its event returned, so this only has to fsync."""
        with self._lock:
            if self._file is not None:
                self._file.pacer.sync()

    def stop(self, *, keep_open_entries: bool = True) -> None:
        """Stop the thread; the file stays for replay if requests are still open."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop_keeping = keep_open_entries
        if thread is None:
            return
        self._wake.set()
        thread.join(10)

    def _write(self, text: str) -> None:
        """Append ``text`` (the lock is held). A journal that cannot be written stops, loudly,
        rather than fail the request that wrote it."""
        if not text or self._file is None:
            return
        try:
            if self._file.write(text):
                self._wake.set()  # past the compaction size: the thread rewrites the file
        except OSError:
            logger.exception("the usage in-flight journal stopped; requests from now on are not journalled")
            self._file = None

    def _run(self) -> None:
        next_checkpoint = time.monotonic() + self.checkpoint_seconds
        try:
            while self._stop_keeping is None:
                # Woken early only to compact or stop; the tick paces the fsync and checkpoints.
                self._wake.wait(min(FSYNC_INTERVAL_SECONDS, self.checkpoint_seconds))
                self._wake.clear()
                if time.monotonic() >= next_checkpoint:
                    with self._lock:
                        self._write("".join(self._checkpoint()))
                    next_checkpoint = time.monotonic() + self.checkpoint_seconds
                file = self._file
                if file is None:
                    continue
                if file.compaction_due:
                    file.compact(self._lock, self._entries)
                file.pacer.sync_if_due()
        except Exception:
            logger.exception("the usage in-flight journal stopped; requests from now on are not journalled")
        finally:
            with self._lock:
                file, self._file = self._file, None
                if file is not None:
                    file.close(empty=not (self._entries and self._stop_keeping is not False))

    def _checkpoint(self) -> list[str]:
        lines = []
        now = time.time()
        for request_id, entry in self._entries.items():
            counters = self._live.get(request_id)
            if counters is None:
                continue
            counted = list(counters())
            if counted != entry.counted:
                entry.counted, entry.checkpointed_at = counted, now
                lines.append(_dump({"p": [request_id, *counted, round(now, 3)]}))
        return lines


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
        # While the thread compacts: what was written meanwhile, for the new file.
        self._spill: list[bytes] | None = None

    def open(self) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        self._lock_file = self._lock_path.open("wb")
        fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if self._fsync:
            _fsync_directory(self._directory)

    def write(self, text: str) -> bool:
        """Append ``text`` (under the journal's lock); True once the file is due for compaction."""
        assert self._descriptor is not None
        data = text.encode("utf-8")
        _write_all(self._descriptor, data)
        self._size += len(data)
        if self._spill is not None:
            self._spill.append(data)
        # The fsync is the journal thread's (``sync_if_due`` on its tick), never the writer's.
        self.pacer.pending(self._descriptor)
        return self.compaction_due

    @property
    def compaction_due(self) -> bool:
        return self._size >= COMPACT_BYTES and self._spill is None

    def compact(self, lock: threading.Lock, entries: dict[str, InFlightEntry]) -> None:
        """Rewrite the file with the open entries alone, without holding ``lock`` through the
        disk writes: lines written meanwhile are kept aside and appended before the swap."""
        assert self._descriptor is not None
        temporary = self.path.with_suffix(".compact")
        with lock:
            data = "".join(entry.line() for entry in entries.values()).encode("utf-8")
            self._spill = []
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(descriptor, data)
            if self._fsync:
                os.fsync(descriptor)
            with lock:
                spilled = b"".join(self._spill)
                _write_all(descriptor, spilled)
                os.replace(temporary, self.path)
                os.close(self._descriptor)
                self._descriptor, descriptor = descriptor, -1
                self._size = len(data) + len(spilled)
                self.pacer.forget()
                self.pacer.pending(self._descriptor)
        finally:
            with lock:
                self._spill = None
            if descriptor != -1:
                os.close(descriptor)
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
    return ascii_compact_json(value) + "\n"


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
