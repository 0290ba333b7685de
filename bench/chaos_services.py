"""The chaos run's own Redis and PostgreSQL: restarted at will without touching anyone else's.

Redis is a ``redis-server`` on a free loopback port, without persistence, in a directory of
the run (its log beside the workers') (a restart forgets everything, as the shared one restarted with ``nosave`` did).
PostgreSQL is a Debian cluster of its own (``pg_createcluster``, trust on loopback) on a free
port, dropped at the end. Both are started and stopped by their own pid or cluster name.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from bench.managed_process import free_port

POSTGRES_CLUSTER: Final = "oarlock_chaos"
_READY_TIMEOUT_SECONDS: Final = 30.0


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> PrivateRedis:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory)]
        command += ["--save", "", "--appendonly", "no"]
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_until(lambda: self._cli("ping") == "PONG", f"redis-server on port {self.port}")
        return self

    def restart(self) -> None:
        """Down without saving, up empty (what a Redis without persistence does after a crash)."""
        self.stop()
        self.start()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        self._cli("shutdown", "nosave")
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def _cli(self, *args: str) -> str:
        completed = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, check=False, timeout=10
        )
        return completed.stdout.strip()


class PrivatePostgres:
    """A cluster of the newest installed PostgreSQL; needs root (Debian's cluster tools)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.version = sorted(os.listdir("/etc/postgresql"))[-1]

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PrivatePostgres:
        if (Path("/etc/postgresql") / self.version / POSTGRES_CLUSTER).exists():
            self.drop()  # left by an interrupted run
        _run(
            "pg_createcluster",
            self.version,
            POSTGRES_CLUSTER,
            "-p",
            str(self.port),
            "--",
            "--auth-local=trust",
            "--auth-host=trust",
        )
        self._ctl("start")
        return self

    def restart(self) -> None:
        self._ctl("restart")

    def drop(self) -> None:
        _run("pg_dropcluster", "--stop", self.version, POSTGRES_CLUSTER, check=False)

    def create_database(self, name: str) -> None:
        _run("psql", self.url("postgres"), "-qc", f'CREATE DATABASE "{name}"')

    def _ctl(self, action: str) -> None:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, POSTGRES_CLUSTER, action)
        _wait_until(
            lambda: _run("psql", self.url("postgres"), "-Atc", "SELECT 1", check=False) == "1",
            f"PostgreSQL cluster {POSTGRES_CLUSTER} on port {self.port}",
        )


def _run(*command: str, check: bool = True) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if check and completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout.strip()


def _wait_until(ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up in {_READY_TIMEOUT_SECONDS:.0f} s")
