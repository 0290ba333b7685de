"""Where a worker's CPU goes under load: py-spy samples Oarlock while a scenario runs.

    python -m bench.profile_request_path --scenario non_streaming --storage postgres --seconds 10

Prints the functions with the most samples, inclusive (on the stack) and exclusive (on top),
and keeps py-spy's raw collapsed stacks (``--raw FILE``) for a flame graph.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from bench.deployment import Deployment
from bench.run import mock_process
from bench.scenarios import PROFILED_SCENARIOS, Target, check_target, scenario_load
from bench.toolchain import ensure_server_packages, ensure_wrk, py_spy


def summarize(raw: Path, top: int) -> str:
    inclusive: Counter[str] = Counter()
    exclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [
            frame.split(" (", 1)[0] + " (" + frame.split(" (", 1)[1].rsplit(":", 1)[0].split("/")[-1] + ")"
            if " (" in frame
            else frame
            for frame in stack.split(";")
        ]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            exclusive[frames[-1]] += count
    lines = [f"{total} samples", "", "inclusive:"]
    lines += [f"{count * 100 / total:5.1f}%  {frame}" for frame, count in inclusive.most_common(top)]
    lines += ["", "exclusive:"]
    lines += [f"{count * 100 / total:5.1f}%  {frame}" for frame, count in exclusive.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=PROFILED_SCENARIOS, default="non_streaming")
    parser.add_argument("--storage", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--server", choices=("daphne", "uvicorn", "granian"), default="daphne")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--raw", type=Path)
    args = parser.parse_args()
    spy = py_spy() if ensure_server_packages() else None
    if spy is None:
        raise SystemExit("py-spy is not installed (bench/toolchain.py)")
    log_dir = Path(tempfile.mkdtemp(prefix="oarlock-bench-profile-"))
    raw = args.raw or log_dir / "py-spy.txt"
    wrk = ensure_wrk()
    with mock_process(log_dir) as mock:
        deployment = Deployment.prepare(args.storage, upstream_url=mock.url)
        with deployment.server(args.server, log_dir=log_dir) as server:
            target = Target("oarlock", server.url, deployment.api_key, watched={"server": server.pid, "mock": mock.pid})
            check_target(target)

            def load() -> dict[str, object]:
                return scenario_load(
                    args.scenario,
                    target,
                    wrk=wrk,
                    concurrency=args.concurrency,
                    duration=args.seconds + 2,
                    watched=target.watched,
                )

            load()  # warm-up
            results: list[dict[str, object]] = []
            thread = threading.Thread(target=lambda: results.append(load()))
            thread.start()
            subprocess.run(
                [
                    str(spy),
                    "record",
                    "--pid",
                    str(server.pid),
                    "--duration",
                    str(int(args.seconds)),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    "--nonblocking",
                ],
                check=True,
                capture_output=True,
            )
            thread.join()
    result = results[0]
    print(
        f"{args.scenario} c={args.concurrency} on {args.server}/{args.storage}: "
        f"{result['requests_per_second']:.0f} req/s, server CPU {result['server_cpu_ms_per_request']:.2f} ms/req"
    )
    print(summarize(raw, args.top))
    print(f"raw stacks: {raw}", file=sys.stderr)


if __name__ == "__main__":
    main()
