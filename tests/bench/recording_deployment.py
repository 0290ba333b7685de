"""A stand-in for ``bench.deployment.Deployment`` in tests of the paired benchmarks: it starts no
process and records which server kind, from which checkout, was started when."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path


@dataclasses.dataclass
class RecordedServer:
    pid: int
    url: str


class RecordingDeployment:
    api_key = "oar_test"

    def __init__(self) -> None:
        self.started: list[str] = []
        self.checkouts: list[Path | None] = []

    @contextlib.contextmanager
    def server(self, kind: str, *, log_dir: Path, project_dir: Path | None = None) -> Iterator[RecordedServer]:
        self.started.append(kind)
        self.checkouts.append(project_dir)
        yield RecordedServer(pid=len(self.started), url=f"http://127.0.0.1:{9000 + len(self.started)}")
