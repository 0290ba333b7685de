"""The metrics pairs give neither side the advantage of the server started first, and an A/A
control of two identical servers says how far apart the machine puts equal code."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bench import metrics_ab as metrics_ab_module
from bench.bench_profile import PROFILES
from bench.metrics_ab import metrics_ab
from tests.bench.recording_deployment import RecordingDeployment


def test_each_round_starts_both_servers_afresh_in_alternating_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # CPU per request by server: the one with metrics costs 2 % more.
    monkeypatch.setattr(
        metrics_ab_module,
        "cpu_per_request",
        lambda scenario, target, wrk, seconds: 1.02 if target.name == "metrics-with" else 1.0,
    )
    deployment: Any = RecordingDeployment()
    profile = dataclasses.replace(PROFILES["smoke"], paired_rounds=4)

    result = metrics_ab(deployment, profile=profile, wrk=None, mock_pid=1, log_dir=tmp_path)

    with_and_without, control = deployment.started[:8], deployment.started[8:]
    assert with_and_without[::2] == ["daphne", "daphne-no-metrics", "daphne", "daphne-no-metrics"]
    assert sorted(with_and_without) == ["daphne"] * 4 + ["daphne-no-metrics"] * 4
    assert all(len(pairs) == 4 for pairs in result["pairs"].values())
    assert result["cost"]["non_streaming"] == pytest.approx(0.02)
    # The A/A control: two servers with metrics, the same rounds; equal code measures equal here.
    assert control == ["daphne"] * 8
    assert all(len(pairs) == 4 for pairs in result["control"]["pairs"].values())
    assert result["control"]["difference"]["non_streaming"] == pytest.approx(0.0)
