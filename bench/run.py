"""``make bench`` / ``python -m bench.run [--quick | --smoke]``: every scenario, every baseline, one run.

One mock Paddler serves the whole run. Against it, in this order: the floor (the mock called
directly), the pass-through on Daphne (``bench/passthrough_asgi.py``), each Oarlock setup
(server x storage), then LiteLLM's proxy — so the ratios in the report compare numbers taken
minutes apart on the same machine. Raw numbers go to
``bench/results/<UTC time>-<profile>.json``; a full run also rewrites the generated tables of
``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_profile import PROFILES, SERVER_SETUPS, BenchProfile
from bench.dashboard_scenario import dashboard
from bench.deployment import PROJECT_DIR, Deployment, Storage, server_command
from bench.issue_targets import PASSTHROUGH
from bench.litellm_proxy import litellm_process
from bench.machine_facts import machine_facts
from bench.managed_process import ManagedProcess, free_port
from bench.metrics_ab import metrics_ab
from bench.process_stats import tree_rss_bytes
from bench.report import update_results_markdown
from bench.responses_ab import responses_ab
from bench.scenarios import (
    STREAM_TOKENS,
    TTFT_TOKEN_DELAY_MS,
    TTFT_TOKENS,
    Target,
    chat_body,
    check_target,
    non_streaming,
    open_streams,
    responses_body,
    streaming,
)
from bench.toolchain import (
    ensure_litellm,
    ensure_server_packages,
    ensure_services,
    ensure_wrk,
)
from bench.worker_scaling_ab import worker_scaling_ab

logger = logging.getLogger("bench")
RESULTS_DIR = PROJECT_DIR / "bench" / "results"


def mock_process(log_dir: Path) -> ManagedProcess:
    port = free_port()
    return ManagedProcess(
        "mock-paddler",
        [sys.executable, "-m", "bench.mock_paddler", "--port", str(port), "--tokens", "64"],
        env=os.environ,
        cwd=PROJECT_DIR,
        log_path=log_dir / "mock-paddler.log",
        ready_url=f"http://127.0.0.1:{port}/health",
        port=port,
    )


def passthrough_process(upstream_url: str, log_dir: Path) -> ManagedProcess:
    """Daphne serving ``bench/passthrough_asgi.py``: the cost of the server and the upstream hop."""
    port = free_port()
    return ManagedProcess(
        PASSTHROUGH,
        server_command("daphne", port, "bench.passthrough_asgi:application"),
        env={**os.environ, "BENCH_UPSTREAM_URL": upstream_url},
        cwd=PROJECT_DIR,
        log_path=log_dir / f"{PASSTHROUGH}.log",
        ready_url=f"http://127.0.0.1:{port}/v1/models",
        port=port,
    )


def measure_target(target: Target, profile: BenchProfile, wrk: str | None) -> dict[str, Any]:
    logger.info("measuring %s", target.name)
    check_target(target)
    results: dict[str, Any] = {
        "non_streaming": non_streaming(target, profile, wrk),
        "chat_streaming": streaming(
            target,
            profile,
            path="/v1/chat/completions",
            body=chat_body(tokens=STREAM_TOKENS, stream=True),
            ttft_body=chat_body(tokens=TTFT_TOKENS, stream=True, delay_ms=TTFT_TOKEN_DELAY_MS),
        ),
    }
    if target.serves_responses:
        results["responses_streaming"] = streaming(
            target,
            profile,
            path="/v1/responses",
            body=responses_body(tokens=STREAM_TOKENS, stream=True),
            ttft_body=responses_body(tokens=TTFT_TOKENS, stream=True, delay_ms=TTFT_TOKEN_DELAY_MS),
        )
    return results


def run(
    profile: BenchProfile,
    *,
    output: Path,
    log_dir: Path,
    litellm: bool,
    write_markdown: bool,
    skip_dashboard: bool = False,
    open_streams_scenario: bool = True,
) -> dict[str, Any]:
    wrk = ensure_wrk() if profile.wrk else None
    if profile.wrk and wrk is None:
        logger.warning("wrk is not available: the non-streaming scenario uses bench.http_load instead")
    if any(server in ("uvicorn", "granian") for server, _ in profile.setups) and not ensure_server_packages():
        raise SystemExit("could not install uvloop/httptools/granian for the server comparison")
    litellm_python = ensure_litellm() if litellm else None
    setups = profile.setups
    services_missing = ensure_services() if any(storage == "postgres" for _, storage in setups) else None
    if services_missing is not None:
        logger.warning("%s: PostgreSQL + Redis setups are skipped", services_missing)
        setups = tuple(setup for setup in setups if setup[1] != "postgres")
    report: dict[str, Any] = {
        "profile": profile.name,
        "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_facts(litellm_python),
        "load_average_at_start": os.getloadavg(),
        "notes": {
            "generator": "wrk -t1 for non-streaming (bench.http_load without wrk), bench.http_load for streaming",
            "upstream": "one mock (bench/mock_paddler.py) for every target; it closes every connection like Paddler",
        },
        "targets": {},
        "skipped": {},
    }
    with mock_process(log_dir) as mock:
        floor = Target("floor", mock.url, "", watched={"server": mock.pid}, serves_responses=False)
        report["targets"]["floor"] = measure_target(floor, profile, wrk)
        # The Responses floor is the same 64-token SSE stream from the mock.
        report["targets"]["floor"]["responses_streaming"] = report["targets"]["floor"]["chat_streaming"]
        with passthrough_process(mock.url, log_dir) as passthrough:
            target = Target(PASSTHROUGH, passthrough.url, "", watched={"server": passthrough.pid, "mock": mock.pid})
            report["targets"][PASSTHROUGH] = measure_target(target, profile, wrk)
        deployments: dict[Storage, Deployment] = {}
        for index, (server_kind, storage) in enumerate(setups):
            if storage not in deployments:
                deployments[storage] = Deployment.prepare(storage, upstream_url=mock.url)
            deployment = deployments[storage]
            name = f"oarlock-{server_kind}-{storage}"
            with deployment.server(server_kind, log_dir=log_dir) as server:
                rss_idle = tree_rss_bytes(server.pid)
                target = Target(name, server.url, deployment.api_key, watched={"server": server.pid, "mock": mock.pid})
                report["targets"][name] = measure_target(target, profile, wrk)
                report["targets"][name]["rss_mb_at_start"] = rss_idle / 2**20
                report["targets"][name]["rss_mb_after_load"] = tree_rss_bytes(server.pid) / 2**20
            if index == 0 and open_streams_scenario:
                logger.info("scenario 4: %s open streams on %s", profile.open_streams, name)
                with deployment.server(server_kind, log_dir=log_dir, app="bench.probed_asgi:application") as server:
                    target = Target(name, server.url, deployment.api_key, watched={})
                    report["open_streams"] = {
                        "setup": name,
                        **open_streams(target, profile, server_pid=server.pid, mock_url=mock.url),
                    }
        if profile.paired_rounds and deployments:
            storage = "postgres" if "postgres" in deployments else next(iter(deployments))
            logger.info("metrics cost: %s simultaneous pairs on %s", profile.paired_rounds, storage)
            report["metrics_ab"] = metrics_ab(
                deployments[storage], profile=profile, wrk=wrk, mock_pid=mock.pid, log_dir=log_dir
            )
            logger.info("Responses ÷ chat: %s simultaneous pairs on %s", profile.paired_rounds, storage)
            report["responses_ab"] = responses_ab(
                deployments[storage], profile=profile, wrk=wrk, mock_pid=mock.pid, log_dir=log_dir
            )
        if profile.paired_rounds and "postgres" in deployments and ("daphne-2-workers", "postgres") in setups:
            # A pool of two needs Redis: measured on the PostgreSQL + Redis deployment only.
            logger.info("worker scaling: %s interleaved pairs", profile.paired_rounds)
            report["worker_scaling_ab"] = worker_scaling_ab(
                deployments["postgres"], profile=profile, wrk=wrk, mock_pid=mock.pid, log_dir=log_dir
            )
        if litellm_python is not None:
            with litellm_process(litellm_python, mock.url, log_dir=log_dir) as proxy:
                target = Target(
                    "litellm",
                    proxy.url,
                    proxy.master_key,
                    watched={"server": proxy.pid, "mock": mock.pid},
                    serves_responses=False,
                )
                report["targets"]["litellm"] = measure_target(target, profile, wrk)
                report["targets"]["litellm"]["rss_mb_after_load"] = tree_rss_bytes(proxy.pid) / 2**20
        else:
            report["skipped"]["litellm"] = "not requested" if not litellm else "LiteLLM could not be installed"
    if services_missing is not None:
        report["skipped"]["postgres+redis setups"] = services_missing
    if profile.dashboard and skip_dashboard:
        report["skipped"]["the usage dashboard (scenario 5)"] = "--no-dashboard"
    if not open_streams_scenario:
        report["skipped"]["open streams (scenario 4)"] = "--no-open-streams"
    if profile.dashboard and not skip_dashboard:
        report["dashboard"] = dashboard(log_dir) if services_missing is None else {"skipped": services_missing}
    report["load_average_at_end"] = os.getloadavg()
    report["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1) + "\n")
    logger.info("raw results: %s", output)
    if write_markdown:
        update_results_markdown(report, PROJECT_DIR / "bench" / "RESULTS.md", output)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--quick", action="store_const", const="quick", dest="profile")
    chosen.add_argument("--smoke", action="store_const", const="smoke", dest="profile")
    parser.add_argument("--no-litellm", action="store_true", help="skip the LiteLLM baseline")
    parser.add_argument(
        "--no-dashboard", action="store_true", help="skip scenario 5 (its first run seeds 10M records for ~16 min)"
    )
    parser.add_argument(
        "--setups",
        help="only these Oarlock setups, e.g. daphne:postgres,daphne-2-workers:postgres (for exploring; "
        "a run meant for RESULTS.md measures them all)",
    )
    parser.add_argument("--no-open-streams", action="store_true", help="skip scenario 4 (1,000 open streams)")
    parser.add_argument("--output", type=Path, help="where to write the JSON (default: bench/results/)")
    parser.add_argument(
        "--write-markdown", action="store_true", help="rewrite bench/RESULTS.md's tables (default for the full profile)"
    )
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile or "full"]
    if args.setups:
        chosen_setups = tuple(tuple(setup.split(":", 1)) for setup in args.setups.split(","))
        unknown = [":".join(setup) for setup in chosen_setups if setup not in SERVER_SETUPS]
        if unknown:
            parser.error(f"unknown setups {unknown}; known: {[':'.join(s) for s in SERVER_SETUPS]}")
        profile = dataclasses.replace(profile, setups=chosen_setups)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    output = args.output or RESULTS_DIR / f"{stamp}-{profile.name}.json"
    log_dir = Path(tempfile.mkdtemp(prefix="oarlock-bench-logs-"))
    logger.info("profile %s; server logs in %s", profile.name, log_dir)
    run(
        profile,
        output=output,
        log_dir=log_dir,
        litellm=profile.litellm and not args.no_litellm,
        write_markdown=args.write_markdown or profile.name == "full",
        skip_dashboard=args.no_dashboard,
        open_streams_scenario=not args.no_open_streams,
    )


if __name__ == "__main__":
    main()
