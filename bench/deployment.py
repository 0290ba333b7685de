"""Oarlock deployed the way a user would run it, for one benchmark configuration.

A configuration is a storage choice (PostgreSQL + Redis, or the embedded defaults: SQLite in a
temporary ``OARLOCK_VAR_DIR`` and in-process cache) and an ASGI server (Daphne, uvicorn,
granian). Either way: DEBUG off, authentication and limits on (a key made by ``manage.py
create_api_key`` with every limit set), usage recording on, metrics on (``OARLOCK_METRICS_TOKEN`` set: every request is counted),
default logging, one worker process — or, for the comparisons, the same without metrics
(``daphne-no-metrics``) and two Daphne workers on one port under the worker pool
(``daphne-2-workers``, oarlock/worker_pool.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from bench.managed_process import ManagedProcess, free_port

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
BENCH_DIR: Final = PROJECT_DIR / "bench"
# uvloop, httptools, granian and py-spy live here, outside the project's venv and pyproject:
# installed by the harness (bench/toolchain.py) and put on PYTHONPATH of the benchmarked server.
SERVER_PACKAGES: Final = BENCH_DIR / ".server-packages"
POSTGRES_ADMIN_URL: Final = "postgres://postgres@127.0.0.1:5432/postgres"
POSTGRES_DATABASE: Final = "oarlock_bench_load"
REDIS_BENCH_URL: Final = "redis://127.0.0.1:6379/9"

Storage = Literal["postgres", "sqlite"]
ServerKind = Literal["daphne", "daphne-no-metrics", "daphne-2-workers", "uvicorn", "granian"]
METRICS_TOKEN: Final = "bench-metrics-token"


@dataclass
class Deployment:
    """Settings and an API key for Oarlock with one storage choice."""

    storage: Storage
    env: dict[str, str]
    var_dir: Path
    api_key: str = ""

    @classmethod
    def prepare(cls, storage: Storage, *, upstream_url: str) -> Deployment:
        var_dir = Path(tempfile.mkdtemp(prefix="oarlock-bench-"))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OARLOCK_", "DATABASE_URL", "REDIS_URL"))},
            "DJANGO_SETTINGS_MODULE": "oarlock.settings",
            "OARLOCK_VAR_DIR": str(var_dir),
            "OARLOCK_DEBUG": "0",
            "PADDLER_INFERENCE_URL": upstream_url,
            "OARLOCK_DEFAULT_MODEL": "bench",
            "OARLOCK_METRICS_TOKEN": METRICS_TOKEN,
            "PYTHONUNBUFFERED": "1",
        }
        if storage == "postgres":
            ensure_postgres_database(POSTGRES_DATABASE)
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{POSTGRES_DATABASE}"
            env["REDIS_URL"] = REDIS_BENCH_URL
        deployment = cls(storage=storage, env=env, var_dir=var_dir)
        deployment.manage("migrate", "--noinput")
        # Every limit set, far above what a run reaches: each request pays for the rate, in-flight,
        # tokens-per-minute and budget checks (Redis round trips with PostgreSQL + Redis), as a
        # tenant's key with limits does.
        output = deployment.manage(
            "create_api_key",
            "bench",
            "--create-tenant",
            "--name",
            f"bench-{os.getpid()}",
            *("--rpm", "100000000", "--tpm", "2000000000", "--max-concurrent", "100000"),
            *("--token-budget", "2000000000", "--budget-period", "month"),
        )
        deployment.api_key = output.strip().splitlines()[-1]
        return deployment

    def manage(self, *args: str) -> str:
        return run_manage(self.env, *args, timeout=600)

    def server(
        self,
        kind: ServerKind,
        *,
        log_dir: Path,
        app: str = "oarlock.asgi:application",
        extra_env: dict[str, str] | None = None,
        project_dir: Path = PROJECT_DIR,
    ) -> ManagedProcess:
        """``project_dir``: the checkout whose code the server runs (``bench/code_ab.py``
        compares two); this one by default."""
        port = free_port()
        env = {**self.env, **(extra_env or {})}
        if kind == "daphne-no-metrics":
            env.pop("OARLOCK_METRICS_TOKEN", None)
        if kind in ("uvicorn", "granian"):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SERVER_PACKAGES), env.get("PYTHONPATH", "")]))
        return ManagedProcess(
            f"oarlock-{kind}-{self.storage}",
            server_command(kind, port, app),
            env=env,
            cwd=project_dir,
            log_path=log_dir / f"oarlock-{kind}-{self.storage}.log",
            ready_url=f"http://127.0.0.1:{port}/v1/models",
            port=port,
        )


def server_command(kind: ServerKind, port: int, app: str) -> list[str]:
    """One worker process each; uvicorn and granian with their fast loop and parser."""
    python = sys.executable
    match kind:
        case "daphne" | "daphne-no-metrics":
            # -v 0 as the worker pool runs it: the usage meter's line is the request's one log line.
            return [python, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), app]
        case "daphne-2-workers":
            return [python, "-m", "oarlock.worker_pool", "--workers", "2", "-b", "127.0.0.1", "-p", str(port), app]
        case "uvicorn":
            return [
                python,
                "-m",
                "uvicorn",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--lifespan",
                "off",
                "--no-access-log",
                app,
            ]
        case "granian":
            return [
                python,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--loop",
                "uvloop",
                "--no-ws",
                "--no-access-log",
                "--log-level",
                "warning",
                app,
            ]


def ensure_postgres_database(name: str) -> None:
    exists = subprocess.run(
        ["psql", POSTGRES_ADMIN_URL, "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(
            ["psql", POSTGRES_ADMIN_URL, "-qc", f'CREATE DATABASE "{name}"'],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )


def run_manage(env: dict[str, str], *args: str, timeout: float) -> str:
    """``manage.py ARGS`` with ``env``: its stdout, or a RuntimeError carrying both outputs."""
    completed = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout
