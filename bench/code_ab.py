"""This checkout against another, in simultaneous pairs: CPU per request of the same scenario.

    git worktree add /tmp/base <commit> && ln -s "$PWD/.venv" /tmp/base/.venv
    python -m bench.code_ab --base /tmp/base --scenario non_streaming --rounds 6

Single load runs of one version minutes apart drift on a shared machine by more than most
changes save (±15–30 %). Here both versions serve from one deployment (the same PostgreSQL,
Redis, mock and key), each loaded at c=10 in the same seconds (``interleaved_pairs``); both are
started afresh each round, in alternating order, as ``metrics_ab`` does. The verdict is the
median of ``this ÷ base``; ``--control`` runs the same rounds with this checkout on both sides,
to show how far apart this machine puts equal code.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
from functools import partial
from pathlib import Path

from bench.deployment import PROJECT_DIR, Deployment
from bench.interleaved_pairs import Pair, cpu_per_request, ratios, simultaneous
from bench.run import mock_process
from bench.scenarios import PROFILED_SCENARIOS, ProfiledScenario, Target
from bench.toolchain import ensure_wrk

WARMUP_SECONDS = 2.0


def code_pairs(
    deployment: Deployment,
    checkouts: dict[str, Path],
    *,
    scenario: ProfiledScenario,
    rounds: int,
    seconds: float,
    wrk: str | None,
    mock_pid: int,
    log_dir: Path,
) -> list[Pair]:
    """``rounds`` simultaneous pairs of CPU ms per request, one server per checkout."""
    sides = tuple(checkouts)
    pairs: list[Pair] = []
    for round_index in range(rounds):
        order = sides if round_index % 2 == 0 else sides[::-1]
        with contextlib.ExitStack() as running:
            targets: dict[str, Target] = {}
            for side in order:
                server = running.enter_context(
                    deployment.server("daphne", log_dir=log_dir / side, project_dir=checkouts[side])
                )
                targets[side] = Target(
                    f"code-{side}", server.url, deployment.api_key, watched={"server": server.pid, "mock": mock_pid}
                )
            _pair(scenario, targets, wrk, WARMUP_SECONDS)
            pairs.append(_pair(scenario, targets, wrk, seconds))
    return pairs


def _pair(scenario: ProfiledScenario, targets: dict[str, Target], wrk: str | None, seconds: float) -> Pair:
    return simultaneous(
        {side: partial(cpu_per_request, scenario, target, wrk, seconds) for side, target in targets.items()}
    )


def summary(pairs: list[Pair], numerator: str, denominator: str) -> str:
    found = ratios(pairs, numerator, denominator)
    each = ", ".join(f"{value:.3f}" for value in found)
    return f"{numerator} ÷ {denominator}: median {statistics.median(found):.3f} ({each})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the other checkout (a git worktree)")
    parser.add_argument("--scenario", choices=PROFILED_SCENARIOS, default="non_streaming")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=6.0, help="per measurement")
    parser.add_argument("--control", action="store_true", help="also this checkout against itself (A/A)")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="oarlock-bench-code-ab-"))
    wrk = ensure_wrk()
    with mock_process(log_dir) as mock:
        deployment = Deployment.prepare("postgres", upstream_url=mock.url)
        measure = partial(
            code_pairs,
            deployment,
            scenario=args.scenario,
            rounds=args.rounds,
            seconds=args.seconds,
            wrk=wrk,
            mock_pid=mock.pid,
            log_dir=log_dir,
        )
        pairs = measure({"this": PROJECT_DIR, "base": args.base.resolve()})
        print(f"{args.scenario}, CPU ms per request:", [{side: round(ms, 3) for side, ms in p.items()} for p in pairs])
        print(summary(pairs, "this", "base"), flush=True)
        if args.control:
            control = measure({"a": PROJECT_DIR, "b": PROJECT_DIR})
            print("control:", summary(control, "a", "b"))


if __name__ == "__main__":
    main()
