"""``make chaos``: many faults at once, then proof that nothing was lost, double-counted or hung.

Two Daphne workers on a PostgreSQL cluster and a Redis of the run's own
(``bench/chaos_services.py``: restarting them disturbs no one else; the cluster needs root for
Debian's ``pg_createcluster``), in front of the benchmark's mock Paddler streaming slowly. Streaming
clients (chat and Responses mixed) keep their own log; 30 % of them hang up at a random moment,
the upstream drops 10 % of the streams mid-way, and meanwhile: Redis is restarted without its
data, one worker is stopped with SIGTERM and started again, PostgreSQL is restarted, the other
worker is killed with SIGKILL and started again. Then every check is printed and the exit
status says whether all held. Loopback only; bounded in time (each client has a timeout, the
settling wait has one).

Budgets live in Redis: a Redis restarted without persistence forgets the period's counters (run
Redis with AOF in production). The budget check therefore covers the keys used only after Redis
came back; the keys of the first wave are reported as not checked.

    python -m bench.chaos_run                        # the full run (restarts its own services)
    python -m bench.chaos_run --quick --no-service-restarts   # small, no PostgreSQL/Redis restart
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench.chaos_client import ChaosRequest, ClientLog, run_client
from bench.chaos_report import ChaosFigures, check_run, print_report
from bench.chaos_services import PrivatePostgres, PrivateRedis
from bench.deployment import PROJECT_DIR, run_manage
from bench.managed_process import ManagedProcess, free_port
from usage.usage_inflight_journal import read_open_entries

DATABASE = "oarlock_chaos"
CHECKPOINT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Shape:
    requests: int
    early_requests: int
    launch_seconds: float
    tokens: tuple[int, int]
    delay_ms: tuple[int, int]
    fault_offsets: tuple[float, float, float]  # SIGTERM, PostgreSQL restart, SIGKILL (after launch start)


# All 1,000 launched within 15 s, each streaming for 8-40 s: most of them open at once.
FULL = Shape(1000, 100, 15.0, (80, 200), (100, 200), (12.0, 24.0, 36.0))
QUICK = Shape(120, 20, 10.0, (20, 60), (50, 100), (3.0, 6.0, 9.0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run (120 requests, ~1 minute)")
    parser.add_argument(
        "--no-service-restarts",
        "--no-shared-restarts",
        dest="no_service_restarts",
        action="store_true",
        help="do not restart PostgreSQL and Redis (the run's own; the old name is kept)",
    )
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    shape = QUICK if args.quick else FULL
    started = time.monotonic()
    run = ChaosRun(shape, restart_services=not args.no_service_restarts, seed=args.seed)
    try:
        figures = run.execute()
    finally:
        run.shut_down()
    figures.elapsed_seconds = time.monotonic() - started
    print_report(figures)
    print(f"logs and journals: {run.var_dir}")
    return 0 if figures.all_held else 1


class ChaosRun:
    def __init__(self, shape: Shape, *, restart_services: bool, seed: int) -> None:
        self.shape = shape
        self.restart_services = restart_services
        self.random = random.Random(seed)
        self.var_dir = Path(tempfile.mkdtemp(prefix="oarlock-chaos-"))
        self.redis = PrivateRedis(self.var_dir / "redis")
        self.postgres = PrivatePostgres()
        self.env = _environment(self.var_dir, database_url=self.postgres.url(DATABASE), redis_url=self.redis.url())
        self.events: list[str] = []
        self.mock: ManagedProcess | None = None
        self.workers: list[ManagedProcess] = []
        self.t0 = time.monotonic()

    def execute(self) -> ChaosFigures:
        self._prepare_storage()
        early_keys, late_keys = self._create_keys(2), self._create_keys(8)
        mock_port = free_port()
        self.env["PADDLER_INFERENCE_URL"] = f"http://127.0.0.1:{mock_port}"
        self.mock = ManagedProcess(
            "mock-paddler",
            [sys.executable, "-m", "bench.mock_paddler", "--port", str(mock_port)],
            env=self.env,
            cwd=PROJECT_DIR,
            log_path=self.var_dir / "mock.log",
            ready_url=f"http://127.0.0.1:{mock_port}/health",
            port=mock_port,
        ).start()
        self.workers = [self._worker(index).start() for index in range(2)]
        requests = self._plan_requests(early_keys, late_keys)
        self.t0 = time.monotonic()
        logs = asyncio.run(self._load(requests))
        self._log("all clients done")
        settle_seconds = self._wait_until_settled()
        return check_run(
            requests=requests,
            logs=logs,
            var_dir=self.var_dir,
            database_url=self.env["DATABASE_URL"],
            redis_url=self.redis.url(),
            checked_keys={index for index in range(len(early_keys), len(early_keys) + len(late_keys))}
            if self.restart_services
            else set(range(len(early_keys) + len(late_keys))),
            key_ids=self.key_ids,
            events=self.events,
            settle_seconds=settle_seconds,
            checkpoint_seconds=CHECKPOINT_SECONDS,
        )

    # --- set-up ---------------------------------------------------------------------------

    def _prepare_storage(self) -> None:
        self.redis.start()
        self.postgres.start()
        self.postgres.create_database(DATABASE)
        self._manage("migrate", "--noinput")

    def _create_keys(self, count: int) -> list[str]:
        self.key_ids: list[int] = getattr(self, "key_ids", [])
        secrets = []
        for _ in range(count):
            index = len(self.key_ids)
            output = self._manage(
                "create_api_key",
                "chaos",
                "--create-tenant",
                "--name",
                f"chaos-{index}",
                "--token-budget",
                "1000000000",
                "--budget-period",
                "day",
                "--max-concurrent",
                "2000",
            )
            secrets.append(output.strip().splitlines()[-1])
            self.key_ids.append(_key_id_of(self.env, f"chaos-{index}"))
        return secrets

    def _manage(self, *args: str) -> str:
        return run_manage(self.env, *args, timeout=300)

    def _worker(self, index: int) -> ManagedProcess:
        port = free_port()
        return ManagedProcess(
            f"worker-{index}",
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "oarlock.asgi:application"],
            env=self.env,
            cwd=PROJECT_DIR,
            log_path=self.var_dir / f"worker-{index}.log",
            ready_url=f"http://127.0.0.1:{port}/health",
            port=port,
        )

    def _plan_requests(self, early_keys: list[str], late_keys: list[str]) -> list[ChaosRequest]:
        shape, rng = self.shape, self.random
        requests = []
        for index in range(shape.requests):
            early = index < shape.early_requests
            key_index = rng.randrange(len(early_keys)) if early else len(early_keys) + rng.randrange(len(late_keys))
            tokens = rng.randint(*shape.tokens)
            delay = rng.randint(*shape.delay_ms)
            drop = rng.randint(1, tokens - 1) if rng.random() < 0.10 else None
            hang_up = rng.randint(1, tokens - 1) if rng.random() < 0.30 else None
            requests.append(
                ChaosRequest(
                    index=index,
                    endpoint=rng.choice(("chat", "responses")),
                    secret=(early_keys + late_keys)[key_index],
                    key_index=key_index,
                    tokens=tokens,
                    delay_ms=delay,
                    drop_after=drop,
                    disconnect_after=hang_up,
                    timeout=tokens * delay / 1000 + 60.0,
                )
            )
        return requests

    # --- the load and the faults ---------------------------------------------------------

    async def _load(self, requests: list[ChaosRequest]) -> list[ClientLog]:
        shape = self.shape
        early, late = requests[: shape.early_requests], requests[shape.early_requests :]
        clients: list[asyncio.Task[ClientLog]] = []
        await self._launch(early, clients, seconds=shape.launch_seconds * len(early) / len(requests))
        if self.restart_services:
            await self._fault("redis restart", lambda: asyncio.to_thread(self.redis.restart))
        faults = asyncio.create_task(self._faults())
        await self._launch(late, clients, seconds=shape.launch_seconds * len(late) / len(requests))
        await faults
        return list(await asyncio.gather(*clients))

    async def _launch(
        self, batch: list[ChaosRequest], clients: list[asyncio.Task[ClientLog]], *, seconds: float
    ) -> None:
        gap = seconds / max(len(batch), 1)
        for request in batch:
            worker = self.workers[request.index % 2]
            clients.append(asyncio.create_task(run_client(request, worker.port)))
            await asyncio.sleep(gap)

    async def _faults(self) -> None:
        start = time.monotonic()
        sigterm_at, postgres_at, sigkill_at = self.shape.fault_offsets
        await asyncio.sleep(max(0.0, sigterm_at - (time.monotonic() - start)))
        await self._fault("worker-0 SIGTERM + start", lambda: self._restart_worker(0, kill=False))
        if self.restart_services:
            await asyncio.sleep(max(0.0, postgres_at - (time.monotonic() - start)))
            await self._fault("postgresql restart", lambda: asyncio.to_thread(self.postgres.restart))
        await asyncio.sleep(max(0.0, sigkill_at - (time.monotonic() - start)))
        await self._fault("worker-1 SIGKILL + start", lambda: self._restart_worker(1, kill=True))

    async def _fault(self, name: str, action: Callable[[], Awaitable[None]]) -> None:
        began = time.monotonic()
        await action()
        self._log(f"{name} ({time.monotonic() - began:.1f} s)")

    def _restart_worker(self, index: int, *, kill: bool) -> Awaitable[None]:
        worker = self.workers[index]

        def restart() -> None:
            process = worker.process
            assert process is not None
            if kill:
                process.kill()
                process.wait(10)
                worker.process = None
            else:
                worker.stop(timeout=30)
            worker.start()

        return asyncio.to_thread(restart)

    def _wait_until_settled(self, timeout: float = 90.0) -> float:
        """Until no usage journal holds a record and no in-flight journal an open request (every
        worker committed what it had: a finished draft can wait for the writer's tick in the
        in-flight journal before it reaches the writer's)."""
        began = time.monotonic()
        journal_dir = self.var_dir / "usage-journal"
        while time.monotonic() - began < timeout:
            if not any(
                path.stat().st_size for path in journal_dir.glob("*.jsonl") if not path.name.startswith("dead-")
            ) and not any(read_open_entries(path) for path in (journal_dir / "inflight").glob("*.jsonl")):
                break
            time.sleep(0.5)
        return time.monotonic() - began

    def _log(self, event: str) -> None:
        line = f"t={time.monotonic() - self.t0:6.1f}s  {event}"
        self.events.append(line)
        print(line, flush=True)

    def shut_down(self) -> None:
        for worker in self.workers:
            worker.stop(timeout=30)
        if self.mock is not None:
            self.mock.stop()
        self.redis.stop()
        self.postgres.drop()


def _environment(var_dir: Path, *, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OARLOCK_", "DATABASE_URL", "REDIS_URL"))},
        "DJANGO_SETTINGS_MODULE": "oarlock.settings",
        "OARLOCK_VAR_DIR": str(var_dir),
        "OARLOCK_DEBUG": "0",
        "OARLOCK_DEFAULT_MODEL": "chaos",
        "OARLOCK_USAGE_CHECKPOINT_SECONDS": str(CHECKPOINT_SECONDS),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }


def _key_id_of(env: dict[str, str], name: str) -> int:
    output = subprocess.run(
        ["psql", env["DATABASE_URL"], "-Atc", f"SELECT id FROM accounts_apikey WHERE name = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return int(output.strip())


if __name__ == "__main__":
    sys.exit(main())
