"""The machine and the versions a result was measured with."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.deployment import PROJECT_DIR, SERVER_PACKAGES


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        pass
    for found in SERVER_PACKAGES.glob(f"{package.replace('-', '_')}-*.dist-info"):
        return found.name.removesuffix(".dist-info").split("-", 1)[1]
    return None


def _command_output(command: list[str], *, any_exit: bool = False) -> str | None:
    if shutil.which(command[0]) is None and not Path(command[0]).exists():
        return None
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    output = (result.stdout + result.stderr).strip()
    return output.splitlines()[0] if output and (result.returncode == 0 or any_exit) else None


def machine_facts(litellm_python: Path | None) -> dict[str, Any]:
    commit = _command_output(["git", "-C", str(PROJECT_DIR), "rev-parse", "--short", "HEAD"])
    dirty = _command_output(["git", "-C", str(PROJECT_DIR), "status", "--porcelain", "--untracked-files=no"])
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(_memory_gib(), 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "git_commit": commit,
        "git_tracked_changes": bool(dirty),
        "versions": {
            **{
                name: _version(name)
                for name in (
                    "django",
                    "djangorestframework",
                    "adrf",
                    "channels",
                    "daphne",
                    "twisted",
                    "httpx",
                    "uvicorn",
                    "uvloop",
                    "httptools",
                    "granian",
                    "psycopg",
                )
            },
            # wrk prints its version and exits with 1.
            "wrk": (_command_output(["wrk", "--version"], any_exit=True) or "").split(" [")[0].removeprefix("wrk ")
            or None,
            "litellm": None
            if litellm_python is None
            else _command_output(
                [str(litellm_python), "-c", "from importlib.metadata import version; print(version('litellm'))"]
            ),
            "postgresql": _command_output(
                ["psql", "postgres://postgres@127.0.0.1:5432/postgres", "-Atc", "SHOW server_version"]
            ),
            "redis": (_command_output(["redis-server", "--version"]) or "").split(" v=")[-1].split(" ")[0] or None,
        },
    }
