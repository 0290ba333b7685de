"""The generated part of bench/RESULTS.md: tables and ratios from one run's JSON.

Only the text between the ``bench:generated`` markers is rewritten, so the hand-written analysis
around it survives a new run. ``python -m bench.report RESULT.json`` regenerates it from a file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from bench.issue_targets import target_rows

START: Final = "<!-- bench:generated:start -->"
END: Final = "<!-- bench:generated:end -->"


def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "–"
    return f"{numerator / denominator:.2f}×"


def _capacity(run: Mapping[str, Any] | None) -> float | None:
    """Requests per second one fully busy core would serve: 1000 / CPU ms per request.

    On a shared machine the server rarely gets a whole core, so measured req/s move with the
    neighbours' load; CPU per request does not, and this is the same number as a rate."""
    cpu_ms = run and run.get("server_cpu_ms_per_request")
    return 1000 / cpu_ms if cpu_ms else None


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _get(target: Mapping[str, Any], scenario: str, concurrency: int | str) -> Mapping[str, Any] | None:
    return target.get(scenario, {}).get(str(concurrency))


def _oarlock_names(report: Mapping[str, Any]) -> list[str]:
    return [name for name in report["targets"] if name.startswith("oarlock-")]


def non_streaming_table(report: Mapping[str, Any]) -> list[str]:
    targets = report["targets"]
    floor = targets.get("floor", {})
    litellm = targets.get("litellm", {})
    floor_c1 = _get(floor, "non_streaming", 1)
    floor_c10 = _get(floor, "non_streaming", 10)
    litellm_c10 = _get(litellm, "non_streaming", 10)
    rows = []
    for name in report["targets"]:
        target = targets[name]
        c1, c10, c100 = (_get(target, "non_streaming", c) for c in (1, 10, 100))
        added_p50 = c1["latency_ms"]["p50"] - floor_c1["latency_ms"]["p50"] if c1 and floor_c1 else None
        added_p99 = c10["latency_ms"]["p99"] - floor_c10["latency_ms"]["p99"] if c10 and floor_c10 else None
        rows.append(
            [
                name,
                _f(c1 and c1["latency_ms"]["p50"], 2),
                _f(added_p50, 2) if name != "floor" else "–",
                _f(c10 and c10["requests_per_second"], 0),
                _f(c10 and c10["latency_ms"]["p99"], 2),
                _f(added_p99, 2) if name != "floor" else "–",
                _f(c100 and c100["requests_per_second"], 0),
                _f(c100 and c100["latency_ms"]["p99"], 1),
                _f(c10 and c10["server_cpu_ms_per_request"], 2),
                _f(_capacity(c10), 0),
                _ratio(c10 and c10["requests_per_second"], floor_c10 and floor_c10["requests_per_second"]),
                _ratio(c10 and c10["requests_per_second"], litellm_c10 and litellm_c10["requests_per_second"]),
                _ratio(_capacity(c10), _capacity(litellm_c10)),
            ]
        )
    return _table(
        [
            "target",
            "c=1 p50 ms",
            "added p50 ms",
            "c=10 req/s",
            "c=10 p99 ms",
            "added p99 ms",
            "c=100 req/s",
            "c=100 p99 ms",
            "server CPU ms/req (c=10)",
            "req/s per busy core",
            "req/s ÷ floor",
            "req/s ÷ LiteLLM",
            "per-core ÷ LiteLLM",
        ],
        rows,
    )


def streaming_table(report: Mapping[str, Any], scenario: str) -> list[str]:
    targets = report["targets"]
    floor = targets.get("floor", {})
    litellm = targets.get("litellm", {})
    floor_c1 = _get(floor, scenario, 1)
    floor_ttft = _get(floor, scenario, "ttft")
    wide = max((int(c) for c in floor.get(scenario, {"1": None}) if c.isdigit() and c != "1"), default=10)
    floor_wide = _get(floor, scenario, wide)
    litellm_wide = _get(litellm, "chat_streaming", wide)
    rows = []
    for name, target in targets.items():
        c1, cw, ttft = _get(target, scenario, 1), _get(target, scenario, wide), _get(target, scenario, "ttft")
        if c1 is None and cw is None:
            continue
        added_ttft = (
            (ttft["first_byte_ms"]["p50"] - floor_ttft["first_byte_ms"]["p50"]) if ttft and floor_ttft else None
        )
        added_total = (c1["latency_ms"]["p50"] - floor_c1["latency_ms"]["p50"]) if c1 and floor_c1 else None
        rows.append(
            [
                name,
                _f(ttft and ttft["first_byte_ms"]["p50"], 2),
                _f(added_ttft, 2) if name != "floor" else "–",
                _f(ttft and ttft["first_byte_ms"]["p99"], 2),
                _f(c1 and c1["latency_ms"]["p50"], 2),
                _f(added_total, 2) if name != "floor" else "–",
                _f(cw and cw["requests_per_second"], 0),
                _f(cw and cw["relayed_tokens_per_second"], 0),
                _f(cw and cw["latency_ms"]["p99"], 1),
                _f(cw and cw["server_cpu_ms_per_request"], 2),
                _f(_capacity(cw), 0),
                _ratio(cw and cw["requests_per_second"], floor_wide and floor_wide["requests_per_second"]),
                _ratio(cw and cw["requests_per_second"], litellm_wide and litellm_wide["requests_per_second"]),
                _ratio(_capacity(cw), _capacity(litellm_wide)),
            ]
        )
    return _table(
        [
            "target",
            "TTFT p50 ms",
            "added TTFT ms",
            "TTFT p99 ms",
            "c=1 total p50 ms",
            "added total ms",
            f"c={wide} streams/s",
            "tokens/s",
            f"c={wide} total p99 ms",
            "server CPU ms/stream",
            "streams/s per busy core",
            "streams/s ÷ floor",
            "streams/s ÷ LiteLLM (chat)",
            "per-core ÷ LiteLLM",
        ],
        rows,
    )


def generator_table(report: Mapping[str, Any]) -> list[str]:
    """Per target, the run where the load generator took the largest share of the CPU used."""
    rows = []
    for name, target in report["targets"].items():
        worst: tuple[float, list[str]] | None = None
        for scenario, runs in target.items():
            if not isinstance(runs, dict):
                continue
            for concurrency, run in runs.items():
                # The TTFT run is one slow stream at a time: nobody is busy, shares mean little.
                if not isinstance(run, dict) or "cpu" not in run or concurrency == "ttft":
                    continue
                cpu = run["cpu"]
                share = cpu.get("generator_share", 0.0)
                row = [
                    name,
                    f"{scenario} c={concurrency}",
                    run["generator"],
                    _f(cpu.get("generator_cores"), 2),
                    _f(cpu.get("server_cores"), 2),
                    _f(cpu.get("mock_cores"), 2),
                    f"{share * 100:.0f} %",
                ]
                if worst is None or share > worst[0]:
                    worst = (share, row)
        if worst is not None:
            rows.append(worst[1])
    return _table(
        ["target", "worst run", "generator", "generator cores", "server cores", "mock cores", "generator share"], rows
    )


def open_streams_lines(report: Mapping[str, Any]) -> list[str]:
    result = report.get("open_streams")
    if not result:
        return ["(not run)"]
    idle, busy = result["loop_lag_idle"], result["loop_lag_with_streams_open"]
    return _table(
        ["measure", "value"],
        [
            ["setup", result["setup"]],
            [
                "streams open / requested (failures)",
                f"{result['streams_open']} / {result['streams_requested']} ({result['open_failures']})",
            ],
            ["seconds to open all", _f(result["seconds_to_open_all"], 1)],
            ["upstream streams open at peak", str(result["upstream_streams_open_at_peak"])],
            [
                "upstream generations cancelled after the clients hung up",
                f"{result['upstream_cancelled_after_hang_up']} (still open: {result['upstream_still_open_after_hang_up']})",
            ],
            ["RSS idle worker (after warm-up)", f"{_f(result['rss_mb_idle_worker'])} MB"],
            ["RSS with the streams open", f"{_f(result['rss_mb_with_streams_open'])} MB"],
            ["RSS per open stream", f"{_f(result['rss_kib_per_open_stream'])} KiB"],
            ["RSS after the hang-up", f"{_f(result['rss_mb_after_hang_up'])} MB"],
            [
                "loop lag idle: p50 / p99 / max",
                f"{_f(idle['p50_ms'], 2)} / {_f(idle['p99_ms'], 2)} / {_f(idle['max_ms'], 2)} ms",
            ],
            [
                "loop lag, streams open: p50 / p99 / max",
                f"{_f(busy['p50_ms'], 2)} / {_f(busy['p99_ms'], 2)} / {_f(busy['max_ms'], 2)} ms",
            ],
        ],
    )


def dashboard_lines(report: Mapping[str, Any]) -> list[str]:
    result = report.get("dashboard") or {"skipped": "not run in this profile"}
    if "pages" not in result:
        return [f"Skipped: {result.get('skipped', 'no result')}."]
    seeding = result.get("seeding", {})
    lines = [
        f"{seeding.get('records', 0):,} usage records ({seeding.get('rollup_cells', 0):,} rollup cells) in "
        f"{result.get('database_version', result.get('database', '?'))}; timed by `bench/usage_dashboard_bench.py` "
        "(Django's test client in-process, as a staff user).",
        "",
    ]
    rows = [
        [page["page"], f"`{page['url']}`", str(page["queries"]), _f(page["median_ms"]), _f(page["max_ms"])]
        for page in result["pages"]
    ]
    return lines + _table(["page", "URL", "queries", "median ms", "max ms"], rows)


def _shown_path(path: Path) -> str:
    project = Path(__file__).resolve().parent.parent
    return str(path.relative_to(project)) if path.is_relative_to(project) else path.name


def generated_section(report: Mapping[str, Any], source: Path) -> str:
    machine = report["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
    lines = [
        f"Run `{report['command']}` ({report['profile']} profile), {report['started_at']} → "
        f"{report.get('finished_at', '?')}; raw numbers: `{_shown_path(source)}`.",
        f"Machine: {machine['nproc']} cores, {machine['cpu_model']}, {machine['memory_gib']} GiB RAM, "
        f"Linux {machine['kernel']}, Python {machine['python']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in report['load_average_at_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in report.get('load_average_at_end', []))}.",
        f"Code: {machine['git_commit']}{' + uncommitted changes' if machine['git_tracked_changes'] else ''}. "
        f"Versions: {versions}.",
        "",
        "### Targets (issue 17)",
        "",
        *_table(["measure", "goal", "this run", "verdict", "pass-through on Daphne"], target_rows(report)),
        "",
        "*Pass-through on Daphne* (`bench/passthrough_asgi.py`): Daphne relaying the bytes to the mock and "
        "back on a new upstream connection per request, with no authentication, parsing, limits, usage, "
        "metrics or log line. It is what any gateway on Daphne pays before doing anything: a goal "
        "it misses cannot be met by a gateway on Daphne against an upstream that closes every connection.",
        "",
        "### 1. Non-streaming chat completion (8-token answer)",
        "",
        *non_streaming_table(report),
        "",
        "### 2. Streaming chat completion (64 tokens)",
        "",
        *streaming_table(report, "chat_streaming"),
        "",
        "### 3. Streaming /v1/responses (64 tokens)",
        "",
        "The floor is the mock's 64-token SSE stream; LiteLLM's column compares with its chat stream.",
        "",
        *streaming_table(report, "responses_streaming"),
        "",
        "### 4. Open streams (one token a second each)",
        "",
        *open_streams_lines(report),
        "",
        "### 5. Usage dashboard",
        "",
        *dashboard_lines(report),
        "",
        "### Load generator CPU (per target, the run where it took the largest share)",
        "",
        'For the floor the "server" is the mock itself, which does almost nothing per request, so the',
        "generator's share there is large by construction; what matters is its share next to Oarlock and LiteLLM.",
        "",
        *generator_table(report),
        "",
    ]
    for name, reason in report.get("skipped", {}).items():
        lines.append(f"Skipped {name}: {reason}.")
    return "\n".join(lines)


def update_results_markdown(report: Mapping[str, Any], markdown: Path, source: Path) -> None:
    section = f"{START}\n{generated_section(report, source)}\n{END}"
    text = markdown.read_text() if markdown.exists() else f"# Benchmark results\n\n{START}\n{END}\n"
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    markdown.write_text(before + section + after)


def main() -> None:
    source = Path(sys.argv[1]).resolve()
    update_results_markdown(json.loads(source.read_text()), Path(__file__).with_name("RESULTS.md"), source)


if __name__ == "__main__":
    main()
