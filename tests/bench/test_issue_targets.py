"""The verdicts of issue 17's ratio targets, from interleaved pairs (bench/interleaved_pairs.py)."""

from __future__ import annotations

from typing import Any

from bench.issue_targets import target_rows


def scaling_report(pairs: dict[str, list[tuple[float, float]]]) -> dict[str, Any]:
    """A run whose only measurement is the worker-scaling pairs: (one, two) req/s per round."""
    by_concurrency = {c: [{"one": one, "two": two} for one, two in rounds] for c, rounds in pairs.items()}
    return {"targets": {}, "worker_scaling_ab": {"pairs": by_concurrency}}


def scaling_row(report: dict[str, Any]) -> list[str]:
    (row,) = [row for row in target_rows(report) if row[0].startswith("2 workers")]
    return row


def test_two_workers_are_judged_by_the_median_pair_not_by_one_outlier() -> None:
    # One round where the single worker was slow (drift) would read 2.4×; the median is 1.5×.
    row = scaling_row(
        scaling_report({"10": [(500, 750), (300, 720), (510, 760)], "100": [(500, 900), (500, 880), (500, 910)]})
    )
    assert row[3] == "missed"
    assert row[2].startswith("c=10: 1.50× (1.49×–2.40×)")


def test_two_workers_meet_the_target_only_when_both_concurrencies_hold() -> None:
    both = scaling_report({"10": [(500, 900), (500, 880), (500, 910)], "100": [(500, 880), (500, 870), (500, 860)]})
    assert scaling_row(both)[3] == "met"
    only_one = scaling_report({"10": [(500, 900), (500, 880), (500, 910)], "100": [(500, 800), (500, 820), (500, 810)]})
    assert scaling_row(only_one)[3] == "missed"


def test_the_scaling_row_shows_the_machines_ceiling_when_the_pairs_carry_it() -> None:
    # One worker kept 1.25 of 2 cores busy: two can be at most 1.6× whatever the server does.
    report = scaling_report({"10": [(500, 750)] * 3, "100": [(500, 760)] * 3})
    for pairs in report["worker_scaling_ab"]["pairs"].values():
        for pair, ceiling in zip(pairs, (1.5, 1.6, 1.7), strict=True):
            pair["ceiling"] = ceiling
    assert scaling_row(report)[2].endswith("this machine's ceiling c=10: 1.60×, c=100: 1.60×")
    assert "ceiling" not in scaling_row(scaling_report({"10": [(500, 750)], "100": [(500, 760)]}))[2]


def test_the_metrics_rows_put_the_aa_control_beside_the_cost() -> None:
    pairs = {"non_streaming": [{"with": 1.03, "without": 1.0}, {"with": 1.01, "without": 1.0}]}
    control = {"non_streaming": [{"a": 1.05, "b": 1.0}, {"a": 0.98, "b": 1.0}]}
    report = {
        "targets": {},
        "metrics_ab": {
            "simultaneous": True,
            "pairs": pairs,
            "cost": {"non_streaming": 0.02},
            "control": {"pairs": control, "difference": {"non_streaming": 0.015}},
        },
    }
    (row,) = [row for row in target_rows(report) if row[0] == "metrics cost, CPU per request (non-streaming)"]
    assert row[2] == "+2.0 % (median of 2 simultaneous pairs, +1.0 to +3.0 %); A/A control +1.5 % (-2.0 to +5.0 %)"
    assert row[3] == "met"
