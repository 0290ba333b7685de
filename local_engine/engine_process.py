"""One run of ``python -m local_engine`` as the supervisor's child.

The engine's output (stdout and stderr, merged) goes through a pipe: a reader thread copies each
line to the supervisor's stderr as it comes and keeps the last ones, so that when the engine dies
the supervisor can say why — the exit status or signal, and what the engine last printed (with
``faulthandler`` on, a crash inside llama.cpp leaves a Python stack there).
"""

from __future__ import annotations

import collections
import json
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

LAST_LINES = 40
# How long to wait for the pipe to drain after the process ended (its last lines matter most).
DRAIN_SECONDS = 2.0
# Signals that mean the engine crashed rather than was stopped.
CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGILL, signal.SIGBUS, signal.SIGFPE, signal.SIGABRT})


@dataclass(frozen=True, slots=True)
class ReadyEngine:
    url: str
    model_name: str
    port: int
    pid: int


class EngineProcess:
    def __init__(self, command: list[str], *, ready_file: Path) -> None:
        self.ready_file = ready_file
        ready_file.unlink(missing_ok=True)  # a file left by an earlier run must not look ready
        self._lines: collections.deque[str] = collections.deque(maxlen=LAST_LINES)
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert self.process.stdout is not None
        self._reader = threading.Thread(
            target=self._copy_output, args=(self.process.stdout,), name="engine-output", daemon=True
        )
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def ready(self) -> ReadyEngine | None:
        """The engine's address once it wrote its ready file and answers ``GET /health``."""
        try:
            document = json.loads(self.ready_file.read_text())
        except (OSError, ValueError):
            return None
        url = document["url"]
        if not _healthy(url):
            return None
        return ReadyEngine(url, document["model_name"], int(url.rsplit(":", 1)[1]), self.process.pid)

    def exit_reason(self) -> str:
        """``exited with status 1`` / ``was killed by SIGSEGV (signal 11)``, plus a hint for crashes."""
        status = self.process.returncode
        if status is None:
            return "is still running"
        if status >= 0:
            return f"exited with status {status}"
        try:
            signum = signal.Signals(-status)
        except ValueError:
            return f"was killed by signal {-status}"
        reason = f"was killed by {signum.name} (signal {-status})"
        if signum in CRASH_SIGNALS:
            reason += (
                ", a crash (most likely inside llama.cpp; if it crashes on every request, see "
                "'When the engine dies' in docs/local-engine.md)"
            )
        return reason

    def last_lines(self) -> list[str]:
        """What the engine printed last (waits briefly for the pipe to drain once it ended)."""
        if self.process.poll() is not None:
            self._reader.join(timeout=DRAIN_SECONDS)
        return list(self._lines)

    def _copy_output(self, pipe: IO[bytes]) -> None:
        with pipe:
            for raw in iter(pipe.readline, b""):
                line = raw.decode(errors="replace").rstrip("\n")
                self._lines.append(line)
                try:
                    sys.stderr.write(line + "\n")
                    sys.stderr.flush()
                except (OSError, ValueError):  # our stderr is gone: keep draining the pipe
                    pass


def _healthy(url: str) -> bool:
    try:
        response = httpx.get(f"{url}/health", timeout=2.0, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.text == "OK"
