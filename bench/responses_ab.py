"""A Responses stream's CPU against a chat stream's, in simultaneous pairs (issue 17: within 15 %).

Two identical servers (the measured setup: Daphne, PostgreSQL + Redis, metrics on) run side by
side; each round streams chat completions from one and Responses from the other at the same
time (c=10 each), and the next round swaps them, so that neither server's place on the cores
favours one endpoint. The verdict is the median over the rounds of ``responses ÷ chat`` of
server CPU per stream.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from bench.bench_profile import BenchProfile
from bench.deployment import Deployment
from bench.interleaved_pairs import CONCURRENCY, Pair, cpu_per_request, median_ratio, simultaneous
from bench.scenarios import Target


def responses_ab(
    deployment: Deployment, *, profile: BenchProfile, wrk: str | None, mock_pid: int, log_dir: Path
) -> dict[str, Any]:
    """The pairs of CPU ms per stream, and the median ratio."""
    pairs: list[Pair] = []
    with (
        deployment.server("daphne", log_dir=log_dir / "responses-ab-a") as first,
        deployment.server("daphne", log_dir=log_dir / "responses-ab-b") as second,
    ):
        targets = [
            Target(name, server.url, deployment.api_key, watched={"server": server.pid, "mock": mock_pid})
            for name, server in (("responses-ab-a", first), ("responses-ab-b", second))
        ]
        for assignment in (targets, targets[::-1]):  # warm both servers on both endpoints
            _pair(assignment, wrk, profile.warmup)
        for round_index in range(profile.paired_rounds):
            pairs.append(_pair(targets if round_index % 2 == 0 else targets[::-1], wrk, profile.duration / 2))
    return {
        "concurrency": CONCURRENCY,
        "seconds_per_measurement": profile.duration / 2,
        "pairs": pairs,
        "ratio": median_ratio(pairs, "responses", "chat"),
    }


def _pair(assignment: list[Target], wrk: str | None, seconds: float) -> Pair:
    """Chat streams on the first target and Responses streams on the second, at once."""
    chat, responses = assignment
    return simultaneous(
        {
            "chat": partial(cpu_per_request, "chat_streaming", chat, wrk, seconds),
            "responses": partial(cpu_per_request, "responses_streaming", responses, wrk, seconds),
        }
    )
