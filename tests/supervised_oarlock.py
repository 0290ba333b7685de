"""``make serve`` inside a test: the supervisor, its real local engine, and Daphne in front.

The same processes ``make serve`` runs (``python -m local_engine.supervisor -- daphne
...``), on free ports and the test database. Everything the supervisor, the engine and Daphne
print goes to one log file, which the tests read to learn the engine's pid and to wait for its
restarts.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from collections.abc import Sequence

from tests.live_server import LiveServer

_ENGINE_UP = re.compile(r"local engine (?:is healthy|is back) at (\S+) \(pid (\d+)\)")


class SupervisedOarlock(LiveServer):
    def __init__(self, supervisor_args: Sequence[str] = ()) -> None:
        # One llama.cpp thread: on a busy machine two threads that wait for each other are slower.
        # /health probes the engine on every hit here: the tests read it right after a kill.
        super().__init__(
            {
                "OARLOCK_LOCAL_CONTEXT_SIZE": "2048",
                "OARLOCK_LOCAL_TEMPERATURE": "0",
                "OARLOCK_LOCAL_THREADS": "1",
                "OARLOCK_HEALTH_CACHE_SECONDS": "0",
            }
        )
        self._supervisor_args = list(supervisor_args)

    def command(self) -> list[str]:
        supervisor = [sys.executable, "-m", "local_engine.supervisor", "--port", "0"]
        return [*supervisor, *self._supervisor_args, "--", *super().command()]

    def start(self, timeout: float = 180.0) -> SupervisedOarlock:
        super().start(timeout)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def engine_starts(self) -> list[tuple[str, int]]:
        """(url, pid) of every time the engine became healthy, in order."""
        return [(match.group(1), int(match.group(2))) for match in _ENGINE_UP.finditer(self.log())]

    def engine_pid(self) -> int:
        return self.engine_starts()[-1][1]

    def kill_engine(self, signum: int) -> int:
        """Send ``signum`` to the running engine; returns how many starts the log had before."""
        starts = len(self.engine_starts())
        pid = self.engine_pid()
        os.kill(pid, signum)
        _wait_until_gone(pid)
        return starts

    def wait_for_engine_start(self, after: int, timeout: float = 60.0) -> float:
        """Seconds until the engine was up again (more than ``after`` starts in the log)."""
        began = time.monotonic()
        while len(self.engine_starts()) <= after:
            assert self.process is not None and self.process.poll() is None, self.log_tail()
            assert time.monotonic() - began < timeout, f"the engine was not back:\n{self.log_tail()}"
            time.sleep(0.1)
        return time.monotonic() - began


def _wait_until_gone(pid: int, timeout: float = 10.0) -> None:
    """Until the process has exited (its sockets are closed even while it waits to be reaped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ", 1)[1].startswith(("Z", "X")):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"process {pid} did not exit")
