"""What the benchmark needs beyond the project's venv, installed on first use.

- ``wrk`` (Debian's package) for the non-streaming scenario;
- LiteLLM's proxy, the peer baseline, in its own venv ``bench/.litellm-venv`` (gitignored) so
  that none of its many dependencies touches Oarlock's;
- uvloop, httptools, granian and py-spy into ``bench/.server-packages`` (``pip --target``),
  put on the PYTHONPATH of the benchmarked uvicorn/granian only: the project's venv and
  ``pyproject.toml`` stay as they are unless the numbers justify a switch.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from bench.deployment import BENCH_DIR, SERVER_PACKAGES

logger = logging.getLogger(__name__)

# 1.108 is the release the orientation numbers were taken with; 1.108.7 is the newest
# 1.108 whose pinned litellm-proxy-extras is on the package index (and far from the
# compromised 1.107.0 release).
LITELLM_REQUIREMENT: Final = "litellm[proxy]==1.108.7"
LITELLM_VENV: Final = BENCH_DIR / ".litellm-venv"
SERVER_REQUIREMENTS: Final = ("granian>=2.5,<3", "uvloop>=0.21", "httptools>=0.6", "py-spy>=0.4")


def ensure_wrk() -> str | None:
    """The path of ``wrk``, installing Debian's package if needed; None when that fails."""
    found = shutil.which("wrk")
    if found:
        return found
    for attempt in (["apt-get", "install", "-y", "wrk"], ["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        if shutil.which(attempt[0]) is None:
            return None
        logger.info("running %s", " ".join(attempt))
        result = subprocess.run(attempt, capture_output=True, text=True, check=False, timeout=600)
        if attempt[1] == "install" and result.returncode == 0:
            break
    return shutil.which("wrk")


def ensure_services() -> str | None:
    """PostgreSQL and Redis on 127.0.0.1, started the way .ci/run starts them; why not, if not."""
    if not _pg_ready():
        versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
        if versions and shutil.which("pg_ctlcluster"):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "start"],
                capture_output=True,
                check=False,
                timeout=120,
            )
        if not _wait_for(_pg_ready):
            return "PostgreSQL is not running on 127.0.0.1:5432 and could not be started"
    if not _redis_ready():
        if shutil.which("redis-server"):
            subprocess.run(
                [
                    "redis-server",
                    "--daemonize",
                    "yes",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    "6379",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                capture_output=True,
                check=False,
                timeout=60,
            )
        if not _wait_for(_redis_ready):
            return "Redis is not running on 127.0.0.1:6379 and could not be started"
    return None


def _pg_ready() -> bool:
    return (
        shutil.which("pg_isready") is not None
        and subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False, timeout=30).returncode
        == 0
    )


def _redis_ready() -> bool:
    return (
        shutil.which("redis-cli") is not None
        and subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True, check=False, timeout=30
        ).returncode
        == 0
    )


def _wait_for(ready: Callable[[], bool], seconds: int = 30) -> bool:
    for _ in range(seconds):
        if ready():
            return True
        time.sleep(1)
    return False


def litellm_python() -> Path:
    return LITELLM_VENV / "bin" / "python"


def ensure_litellm() -> Path | None:
    """LiteLLM's venv python, creating the venv the first time; None when it cannot install."""
    stamp = LITELLM_VENV / ".installed-stamp"
    if stamp.exists() and stamp.read_text() == LITELLM_REQUIREMENT:
        return litellm_python()
    logger.info("installing %s into %s (a few minutes, once)", LITELLM_REQUIREMENT, LITELLM_VENV)
    steps = [
        [sys.executable, "-m", "venv", str(LITELLM_VENV)],
        [str(litellm_python()), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [str(litellm_python()), "-m", "pip", "install", "--quiet", LITELLM_REQUIREMENT],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, check=False, timeout=1800)
        if result.returncode != 0:
            logger.warning("LiteLLM install step failed: %s\n%s", " ".join(step), result.stderr[-2000:])
            return None
    stamp.write_text(LITELLM_REQUIREMENT)
    return litellm_python()


def ensure_server_packages() -> bool:
    stamp = SERVER_PACKAGES / ".installed-stamp"
    wanted = "\n".join(SERVER_REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == wanted:
        return True
    logger.info("installing %s into %s", ", ".join(SERVER_REQUIREMENTS), SERVER_PACKAGES)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--upgrade",
            "--target",
            str(SERVER_PACKAGES),
            *SERVER_REQUIREMENTS,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    if result.returncode != 0:
        logger.warning("installing the server packages failed:\n%s", result.stderr[-2000:])
        return False
    stamp.write_text(wanted)
    return True


def py_spy() -> Path | None:
    path = SERVER_PACKAGES / "bin" / "py-spy"
    return path if path.exists() else None
