"""How long and how wide a benchmark run is: ``smoke`` (the test suite), ``quick``, ``full``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bench.deployment import ServerKind, Storage


@dataclass(frozen=True, slots=True)
class BenchProfile:
    name: str
    duration: float  # seconds per measured load run
    warmup: float
    concurrencies: tuple[int, ...]
    stream_concurrency: int
    # (server, storage) setups of Oarlock; the first one also runs scenario 4 and the profile.
    setups: tuple[tuple[ServerKind, Storage], ...]
    open_streams: int
    open_stream_seconds: int
    lag_window: float
    litellm: bool
    dashboard: bool
    wrk: bool
    # Rounds of the interleaved pairs (bench/interleaved_pairs.py): metrics cost, worker scaling.
    paired_rounds: int


# The server setups the quick and full profiles measure side by side (server, storage).
SERVER_SETUPS: Final = (
    ("daphne", "postgres"),
    ("daphne-no-metrics", "postgres"),
    ("daphne-2-workers", "postgres"),
    ("uvicorn", "postgres"),
    ("daphne", "sqlite"),
)

PROFILES: Final = {
    "smoke": BenchProfile(
        name="smoke",
        duration=0.7,
        warmup=0.3,
        concurrencies=(1, 10),
        stream_concurrency=4,
        setups=(("daphne", "sqlite"),),
        open_streams=20,
        open_stream_seconds=20,
        lag_window=0.3,
        litellm=False,
        dashboard=False,
        wrk=False,
        paired_rounds=1,
    ),
    "quick": BenchProfile(
        name="quick",
        duration=3.0,
        warmup=1.0,
        concurrencies=(1, 10, 100),
        stream_concurrency=10,
        setups=SERVER_SETUPS,
        open_streams=1000,
        open_stream_seconds=30,
        lag_window=2.0,
        litellm=True,
        dashboard=False,
        wrk=True,
        paired_rounds=2,
    ),
    "full": BenchProfile(
        name="full",
        duration=10.0,
        warmup=2.0,
        concurrencies=(1, 10, 100),
        stream_concurrency=10,
        setups=SERVER_SETUPS,
        open_streams=1000,
        open_stream_seconds=40,
        lag_window=5.0,
        litellm=True,
        dashboard=True,
        wrk=True,
        paired_rounds=4,
    ),
}
