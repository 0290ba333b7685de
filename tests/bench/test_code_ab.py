"""Comparing two checkouts: each side's server runs its own checkout's code, both start afresh
every round in alternating order, and the verdict is the median of this ÷ base."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import code_ab as code_ab_module
from bench.code_ab import code_pairs, summary
from tests.bench.recording_deployment import RecordingDeployment


def test_each_round_runs_both_checkouts_afresh_and_the_verdict_is_the_median(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    this, base = tmp_path / "this", tmp_path / "base"
    # The change saves 5 % of CPU per request.
    monkeypatch.setattr(
        code_ab_module,
        "cpu_per_request",
        lambda scenario, target, wrk, seconds: 0.95 if target.name == "code-this" else 1.0,
    )
    monkeypatch.setattr(code_ab_module, "simultaneous", lambda measures: {s: m() for s, m in measures.items()})
    deployment: Any = RecordingDeployment()

    pairs = code_pairs(
        deployment,
        {"this": this, "base": base},
        scenario="non_streaming",
        rounds=4,
        seconds=1.0,
        wrk=None,
        mock_pid=1,
        log_dir=tmp_path,
    )

    assert deployment.checkouts == [this, base, base, this, this, base, base, this]
    assert [pair["this"] / pair["base"] for pair in pairs] == pytest.approx([0.95] * 4)
    assert summary(pairs, "this", "base").startswith("this ÷ base: median 0.950")
