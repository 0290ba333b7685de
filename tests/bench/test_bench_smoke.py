"""The benchmark harness still runs end to end (smoke profile: a few seconds, no wrk, no LiteLLM).

The full run (``make bench``) measures with wrk and compares with LiteLLM's proxy; both are
skipped here by the profile itself, so this needs only the project's venv.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bench.bench_profile import PROFILES
from bench.issue_targets import target_rows
from bench.report import generated_section
from bench.run import run
from bench.scenarios import STREAM_TOKENS


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    logging.getLogger("bench").setLevel(logging.WARNING)
    directory = tmp_path_factory.mktemp("bench")
    output = directory / "smoke.json"
    report = run(PROFILES["smoke"], output=output, log_dir=directory / "logs", litellm=False, write_markdown=False)
    return report, output


def _runs(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, target in report["targets"].items():
        for scenario, runs in target.items():
            if isinstance(runs, dict):
                found += [(f"{name} {scenario} c={c}", run) for c, run in runs.items()]
    return found


def test_every_scenario_is_measured_against_the_floor_and_oarlock(smoke_run: tuple[dict[str, Any], Path]) -> None:
    report, _ = smoke_run
    assert set(report["targets"]) == {"floor", "daphne-passthrough", "oarlock-daphne-sqlite"}
    for target in report["targets"].values():
        assert {"non_streaming", "chat_streaming", "responses_streaming"} <= set(target)


def test_the_passthrough_relays_the_mocks_streams_whole(smoke_run: tuple[dict[str, Any], Path]) -> None:
    # The pass-through is a baseline only if it does the relaying Oarlock does: every event of
    # the mock's stream reaches the client.
    report, _ = smoke_run
    floor = report["targets"]["floor"]["chat_streaming"]
    relayed = report["targets"]["daphne-passthrough"]["chat_streaming"]
    for concurrency, result in relayed.items():
        if concurrency.isdigit():
            assert result["events_per_response"] == floor[concurrency]["events_per_response"]


def test_every_load_run_completes_requests_without_errors(smoke_run: tuple[dict[str, Any], Path]) -> None:
    report, _ = smoke_run
    for label, result in _runs(report):
        assert result["completed"] > 0, label
        assert result["errors"] == 0, (label, result.get("error_kinds"))


def test_every_load_run_counts_the_whole_machines_busy_cores(smoke_run: tuple[dict[str, Any], Path]) -> None:
    # The worker-scaling ceiling divides the cores by these: they hold the server's own cores
    # (counted in clock ticks, hence the margin) and never more than the machine has.
    report, _ = smoke_run
    cores = report["machine"]["nproc"]
    for label, result in _runs(report):
        busy = result["cpu"]["machine_cores"]
        assert result["cpu"].get("server_cores", 0) - 0.1 <= busy <= cores + 0.1, label


def test_oarlock_streams_relay_every_token_of_the_mock(smoke_run: tuple[dict[str, Any], Path]) -> None:
    report, _ = smoke_run
    streamed = report["targets"]["oarlock-daphne-sqlite"]["chat_streaming"]
    # One SSE event per token, plus the closing chunk and [DONE].
    wide = [result for concurrency, result in streamed.items() if concurrency.isdigit()]
    assert wide
    assert all(result["events_per_response"] >= STREAM_TOKENS + 1 for result in wide)


def test_hung_up_streams_cancel_their_upstream_generations(smoke_run: tuple[dict[str, Any], Path]) -> None:
    report, _ = smoke_run
    streams = report["open_streams"]
    assert streams["streams_open"] == streams["streams_requested"]
    assert streams["upstream_cancelled_after_hang_up"] == streams["streams_open"]
    assert streams["upstream_still_open_after_hang_up"] == 0


def test_the_generator_cpu_is_accounted_in_every_run(smoke_run: tuple[dict[str, Any], Path]) -> None:
    report, _ = smoke_run
    for label, result in _runs(report):
        if label.endswith("c=ttft"):
            # A time-to-first-token run sends a handful of sequential requests: its generator can
            # use less CPU than the kernel's accounting resolves (seen as 0.0 on a loaded machine).
            assert result["cpu"]["server_cores"] > 0, label
            continue
        assert result["cpu"]["generator_cores"] > 0, label
        assert result["cpu"]["server_cores"] > 0, label


def test_the_results_tables_render_from_the_raw_json(smoke_run: tuple[dict[str, Any], Path]) -> None:
    report, output = smoke_run
    section = generated_section(report, output)
    assert "| oarlock-daphne-sqlite |" in section
    assert "### 4. Open streams" in section


def test_the_metrics_cost_is_measured_in_interleaved_pairs(smoke_run: tuple[dict[str, Any], Path]) -> None:
    report, output = smoke_run
    paired = report["metrics_ab"]
    for scenario in ("non_streaming", "chat_streaming", "responses_streaming"):
        (pair,) = paired["pairs"][scenario]  # the smoke profile runs one round
        assert pair["with"] > 0 and pair["without"] > 0
        assert paired["cost"][scenario] == pytest.approx(pair["with"] / pair["without"] - 1)
    assert "median of 1 simultaneous pairs" in generated_section(report, output)


def test_responses_against_chat_is_measured_in_simultaneous_pairs(smoke_run: tuple[dict[str, Any], Path]) -> None:
    report, _ = smoke_run
    (pair,) = report["responses_ab"]["pairs"]  # the smoke profile runs one round
    assert pair["chat"] > 0 and pair["responses"] > 0
    (row,) = [row for row in target_rows(report) if row[0].startswith("Responses stream CPU")]
    assert row[2].startswith(f"{pair['responses'] / pair['chat']:.2f}× (median of 1 simultaneous pairs")
