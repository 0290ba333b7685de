"""Where a worker's CPU goes, thread by thread: the event loop against the helper threads.

    python -m bench.thread_cpu --scenario non_streaming --concurrency 1 --seconds 10

Runs one scenario against one Daphne worker (PostgreSQL + Redis, the benchmark's key with every
limit) and prints, per thread of the worker, CPU milliseconds per request, from
``/proc/<pid>/task/*/stat`` before and after. py-spy (``bench.profile_request_path``) says which
functions run on the loop; this says what the threads beside it (usage writer, in-flight
journal, Responses store, logging) cost, wake-ups included, which a sampler does not see.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

from bench.deployment import Deployment
from bench.run import mock_process
from bench.scenarios import PROFILED_SCENARIOS, Target, check_target, scenario_load
from bench.toolchain import ensure_server_packages, ensure_wrk, py_spy

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
_DUMP_THREAD = re.compile(r'^Thread (\d+) \([^)]*\): "([^"]*)"', re.MULTILINE)


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds of each live thread of ``pid``, by thread id, with the thread's name."""
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            name = (task / "comm").read_text().strip()
        except FileNotFoundError:
            continue  # the thread ended meanwhile
        fields = stat.rpartition(")")[2].split()
        threads[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND)
    return threads


def thread_names(pid: int) -> dict[int, str]:
    """Python's names of the threads of ``pid`` by thread id (``py-spy dump``; the kernel's
    name is "python" for every one of them)."""
    spy = py_spy() if ensure_server_packages() else None
    if spy is None:
        return {}
    dump = subprocess.run([str(spy), "dump", "--pid", str(pid)], capture_output=True, text=True, check=False).stdout
    return {int(match[1]): match[2] for match in _DUMP_THREAD.finditer(dump)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=PROFILED_SCENARIOS, default="non_streaming")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="measured runs, one line each")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="oarlock-bench-threads-"))
    wrk = ensure_wrk()
    with mock_process(log_dir) as mock:
        deployment = Deployment.prepare("postgres", upstream_url=mock.url)
        with deployment.server("daphne", log_dir=log_dir) as server:
            target = Target("oarlock", server.url, deployment.api_key, watched={"server": server.pid})
            check_target(target)

            def load(seconds: float) -> int:
                result = scenario_load(
                    args.scenario, target, wrk=wrk, concurrency=args.concurrency, duration=seconds, watched={}
                )
                return int(result["completed"])

            load(2)  # warm-up: imports, connections, caches
            for _ in range(args.runs):
                before = thread_cpu(server.pid)
                requests = load(args.seconds)
                after = thread_cpu(server.pid)
                names = thread_names(server.pid)
                by_name: dict[str, float] = defaultdict(float)
                for tid, (_, seconds) in after.items():
                    # Pool threads by their pool: "ThreadPoolExecutor-0_3" -> "ThreadPoolExecutor-0".
                    name = names.get(tid, f"thread {tid}").rsplit("_", 1)[0] if tid != server.pid else "event loop"
                    by_name[name] += seconds - before.get(tid, ("", 0.0))[1]
                total = sum(by_name.values())
                parts = ", ".join(
                    f"{name} {seconds * 1000 / requests:.3f}"
                    for name, seconds in sorted(by_name.items(), key=lambda item: -item[1])
                    if seconds > 0
                )
                print(
                    f"{args.scenario} c={args.concurrency}: {requests} requests, "
                    f"{total * 1000 / requests:.3f} ms CPU/request: {parts}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
