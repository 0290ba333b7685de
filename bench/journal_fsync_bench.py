"""What fsyncing the usage journals costs: streams/s with ``OARLOCK_USAGE_JOURNAL_FSYNC`` on vs off.

One Daphne worker (embedded storage: SQLite in a temporary var dir, so no shared database is
touched) behind the lean mock Paddler; the same streaming load against each setting, rounds
alternating so that the machine's noise falls on both alike. Every request is journalled at
admission (in-flight journal) and as a finished record (crash journal); with fsync on, each
batch the journal threads take is fsynced once (a group commit), never on the event loop.

    python -m bench.journal_fsync_bench [--rounds 3] [--seconds 10] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench.deployment import PROJECT_DIR, Deployment
from bench.load_run import run_http_load
from bench.managed_process import ManagedProcess, free_port


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=16)
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="oarlock-fsync-bench-"))
    mock_port = free_port()
    mock = ManagedProcess(
        "mock-paddler",
        [sys.executable, "-m", "bench.mock_paddler", "--port", str(mock_port), "--tokens", str(args.tokens)],
        env={},
        cwd=PROJECT_DIR,
        log_path=log_dir / "mock.log",
        ready_url=f"http://127.0.0.1:{mock_port}/health",
        port=mock_port,
    ).start()
    rates: dict[str, list[float]] = {"1": [], "0": []}
    cpu: dict[str, list[float]] = {"1": [], "0": []}
    try:
        deployment = Deployment.prepare("sqlite", upstream_url=f"http://127.0.0.1:{mock_port}")
        body = json.dumps({"model": "bench", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}).encode()
        for _ in range(args.rounds):
            for fsync in ("1", "0"):
                server = deployment.server("daphne", log_dir=log_dir, extra_env={"OARLOCK_USAGE_JOURNAL_FSYNC": fsync})
                with server:
                    result = run_http_load(
                        f"{server.url}/v1/chat/completions",
                        body=body,
                        headers=[f"Authorization: Bearer {deployment.api_key}"],
                        concurrency=args.concurrency,
                        duration=args.seconds,
                        watched={"server": server.pid},
                    )
                rates[fsync].append(float(result["requests_per_second"]))
                cpu[fsync].append(float(result["server_cpu_ms_per_request"] or 0.0))
                print(
                    f"fsync={'on ' if fsync == '1' else 'off'} {rates[fsync][-1]:8.1f} streams/s "
                    f"{cpu[fsync][-1]:6.2f} ms server CPU per stream",
                    flush=True,
                )
    finally:
        mock.stop()
    on, off = statistics.median(rates["1"]), statistics.median(rates["0"])
    cpu_on, cpu_off = statistics.median(cpu["1"]), statistics.median(cpu["0"])
    print(f"median streams/s: fsync on {on:.1f}, off {off:.1f}; ratio on/off {on / off:.3f}")
    print(
        f"median server CPU per stream: fsync on {cpu_on:.2f} ms, off {cpu_off:.2f} ms; "
        f"ratio on/off {cpu_on / cpu_off:.3f}"
        if cpu_off
        else "server CPU not measured"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
