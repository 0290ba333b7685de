"""N Daphne workers on one port: ``make serve WORKERS=N`` and the production command.

    python -m oarlock.worker_pool --workers 2 -b 0.0.0.0 -p 8070 [oarlock.asgi:application]

The pool binds the listening socket once and hands it to every worker (``daphne --fd``), so a
worker that dies takes none of the port with it, and each new connection goes to the worker
holding the fewest (oarlock/connection_balance.py). A dead worker is reported (exit code or
signal) and replaced, with a backoff when it keeps dying at start. SIGTERM or Ctrl-C stops every worker (SIGTERM, then SIGKILL after a grace
period) and exits.

Workers share nothing in memory, so more than one needs ``REDIS_URL`` (limits, budgets, the key
cache and the channel layer must be shared); the pool refuses to start them otherwise.
Metrics: the pool gives the workers one fresh ``PROMETHEUS_MULTIPROC_DIR`` so ``/metrics``
counts all of them (usage/request_metrics.py), and retires a dead worker's live gauges.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from types import FrameType

from prometheus_client import multiprocess

from oarlock import connection_balance

DEFAULT_APPLICATION = "oarlock.asgi:application"
POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 30.0
# A worker that dies sooner than this after starting is "failing at start": back off.
HEALTHY_AFTER_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 10.0
NEEDS_REDIS = (
    "oarlock.worker_pool: {workers} workers need REDIS_URL. Each worker is its own process: "
    "without Redis every one keeps its own rate limits, concurrency caps, budgets and key cache, "
    "so a key would get {workers}x its limits. Set REDIS_URL (redis://HOST:PORT/DB) or run one worker."
)


@dataclass
class Worker:
    slot: int
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    failures_in_a_row: int = 0


class WorkerPool:
    def __init__(
        self, *, workers: int, listener: socket.socket, command: list[str], env: dict[str, str], connection_table: str
    ) -> None:
        self.size = workers
        self.listener = listener
        self.command = command
        self.env = env
        self.connection_table = connection_table
        self.workers: dict[int, Worker] = {}
        self.stopping = False

    def start(self) -> None:
        for slot in range(self.size):
            self.workers[slot] = self._spawn(slot, failures_in_a_row=0)

    def _spawn(self, slot: int, *, failures_in_a_row: int) -> Worker:
        env = {**self.env, connection_balance.TABLE_ENV: self.connection_table, connection_balance.SLOT_ENV: str(slot)}
        process = subprocess.Popen(self.command, env=env, pass_fds=(self.listener.fileno(),))
        _say(f"worker {slot} started (pid {process.pid})")
        return Worker(slot=slot, process=process, failures_in_a_row=failures_in_a_row)

    def run(self) -> int:
        """Supervise until stopped; the exit status of the pool."""
        while not self.stopping:
            time.sleep(POLL_SECONDS)
            for slot, worker in list(self.workers.items()):
                if self.stopping or worker.process.poll() is None:
                    continue
                self.workers[slot] = self._replace(worker)
        return self._stop_all()

    def _replace(self, dead: Worker) -> Worker:
        _say(f"worker {dead.slot} (pid {dead.process.pid}) {_how_it_ended(dead.process.returncode)}; restarting it")
        _retire_metrics(dead.process.pid, self.env)
        connection_balance.clear_slot(self.connection_table, dead.slot)
        lived = time.monotonic() - dead.started
        failures = 0 if lived >= HEALTHY_AFTER_SECONDS else dead.failures_in_a_row + 1
        if failures:
            delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** (failures - 1))
            _say(f"worker {dead.slot} died {lived:.1f} s after starting; waiting {delay:.1f} s")
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not self.stopping:
                time.sleep(POLL_SECONDS)
        return self._spawn(dead.slot, failures_in_a_row=failures)

    def stop(self, signum: int, frame: FrameType | None) -> None:
        # Only a flag: the loop does the work (a handler must not raise into whatever runs).
        self.stopping = True

    def _stop_all(self) -> int:
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for worker in self.workers.values():
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _say(f"worker {worker.slot} (pid {worker.process.pid}) ignored SIGTERM; killing it")
                worker.process.kill()
                worker.process.wait()
        return 0


def bound_listener(host: str, port: int, backlog: int = 2048) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host.strip("[]"), port))
    listener.listen(backlog)
    listener.set_inheritable(True)
    return listener


def daphne_command(listener: socket.socket, application: str, extra: list[str]) -> list[str]:
    fd = listener.fileno()
    # ``--fd`` adopts the socket as IPv4; an IPv6 one needs the endpoint string spelled out.
    where = ["--fd", str(fd)] if listener.family == socket.AF_INET else ["-e", f"fd:fileno={fd}:domain=INET6"]
    # -v 0: no Daphne access log. Each request already ends in one summary line (the usage
    # meter's, with the request id); a second line per request cost ~5 % of the CPU
    # (bench/RESULTS.md). ``-- --access-log -`` turns it back on.
    return [sys.executable, "-m", "daphne", "-v", "0", *where, *extra, application]


def metrics_directory(env: dict[str, str]) -> tuple[str, bool]:
    """The workers' shared metrics directory, emptied; and whether the pool created it."""
    configured = env.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        os.makedirs(configured, exist_ok=True)
        # Files of an earlier run would be summed into this one's counters.
        for stale in glob.glob(os.path.join(configured, "*.db")):
            os.remove(stale)
        return configured, False
    return tempfile.mkdtemp(prefix="oarlock-metrics-"), True


def _retire_metrics(pid: int, env: dict[str, str]) -> None:
    directory = env.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    # A dead worker's in-flight gauge must not count forever; its counters stay summed.
    multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]  # prometheus-client has no annotations here


def _how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def _say(message: str) -> None:
    print(f"oarlock.worker_pool: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oarlock.worker_pool", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS") or 1))
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8070)
    parser.add_argument("application", nargs="?", default=DEFAULT_APPLICATION)
    parser.add_argument("daphne_args", nargs=argparse.REMAINDER, help="after --: passed to each daphne")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.workers > 1 and not os.environ.get("REDIS_URL"):
        print(NEEDS_REDIS.format(workers=args.workers), file=sys.stderr)
        return 2
    env = dict(os.environ)
    directory, created = metrics_directory(env)
    env["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        listener = bound_listener(args.bind, args.port)
    except OSError as error:
        print(f"oarlock.worker_pool: cannot listen on {args.bind}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    extra = [a for a in args.daphne_args if a != "--"]
    table_fd, connection_table = tempfile.mkstemp(prefix="oarlock-connections-")
    os.close(table_fd)
    connection_balance.create_table(connection_table, args.workers)
    pool = WorkerPool(
        workers=args.workers,
        listener=listener,
        command=daphne_command(listener, args.application, extra),
        env=env,
        connection_table=connection_table,
    )
    signal.signal(signal.SIGTERM, pool.stop)
    signal.signal(signal.SIGINT, pool.stop)
    _say(f"{args.workers} Daphne worker(s) on http://{args.bind}:{args.port}")
    try:
        pool.start()
        return pool.run()
    finally:
        listener.close()
        os.remove(connection_table)
        if created:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
