"""``python -m local_engine``: serve the local engine with uvicorn.

Logs one ``local engine ready`` line once it accepts requests; ``--ready-file`` also writes the
address and served model name as JSON (the supervisor behind ``make serve`` reads it).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import faulthandler
import json
import logging
import os
from pathlib import Path

import uvicorn

from local_engine.engine_app import LocalEngineApp
from local_engine.engine_loading import build_engine, load_runtimes
from local_engine.engine_settings import EngineSettings, sampling_for

logger = logging.getLogger("local_engine")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    # A crash inside llama.cpp (SIGSEGV, SIGILL) then leaves the Python stack that led to it on
    # stderr, which the supervisor shows with the signal's name.
    faulthandler.enable()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    problems = settings.problems()
    if problems:
        parser.error("; ".join(problems))
    engine = build_engine(load_runtimes(settings), settings)
    app = LocalEngineApp(engine, agent_name=settings.agent_name)
    asyncio.run(_serve(app, host=args.host, port=args.port, ready_file=args.ready_file))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_engine",
        description="Serve Paddler's inference API from a local GGUF model (llama.cpp).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8061, help="0 picks a free port")
    parser.add_argument(
        "--model", type=Path, help="GGUF file (default: $OARLOCK_LOCAL_MODEL_PATH, else the packaged Gemma 3 270M)"
    )
    parser.add_argument(
        "--model-name", help="name to serve the model under (default: from the GGUF general.name, e.g. gemma-3-270m)"
    )
    parser.add_argument("--slots", type=int, help="concurrent generations (default: $OARLOCK_LOCAL_SLOTS or 1)")
    parser.add_argument(
        "--max-buffered",
        type=int,
        help="requests that may wait for a slot (default: $OARLOCK_LOCAL_MAX_BUFFERED or 30)",
    )
    parser.add_argument(
        "--buffered-timeout-ms",
        type=int,
        help="how long a request may wait for a slot (default: $OARLOCK_LOCAL_BUFFERED_TIMEOUT_MS or 10000)",
    )
    parser.add_argument("--context-size", type=int, help="tokens per slot (default: 8192)")
    parser.add_argument("--threads", type=int, help="threads per slot (default: CPUs / slots)")
    parser.add_argument("--temperature", type=float, help="0 = greedy/deterministic (default: 0.8)")
    parser.add_argument("--seed", type=int, help="sampling seed (default: random)")
    parser.add_argument("--name", dest="agent_name", help="generated_by of every line")
    parser.add_argument("--ready-file", type=Path, help="write {url, model_name, ...} here when ready")
    return parser


def _settings(args: argparse.Namespace) -> EngineSettings:
    settings = EngineSettings.from_environment()
    overrides = {
        "model_path": args.model,
        "model_name": args.model_name,
        "slots": args.slots,
        "max_buffered_requests": args.max_buffered,
        "buffered_request_timeout_ms": args.buffered_timeout_ms,
        "context_size": args.context_size,
        "threads": args.threads,
        "agent_name": args.agent_name,
    }
    settings = dataclasses.replace(settings, **{name: value for name, value in overrides.items() if value is not None})
    if args.temperature is not None or args.seed is not None:
        temperature = settings.sampling.temperature if args.temperature is None else args.temperature
        seed = settings.sampling.seed if args.seed is None else args.seed
        settings = dataclasses.replace(settings, sampling=sampling_for(temperature, seed=seed))
    return settings


async def _serve(app: LocalEngineApp, *, host: str, port: int, ready_file: Path | None) -> None:
    config = uvicorn.Config(app, host=host, port=port, lifespan="on", access_log=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    # uvicorn's Server says it started with a flag, not an event: poll it.
    while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.05)
    if server.started:
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://{host}:{bound_port}"
        model = app.engine.model
        logger.info(
            "local engine ready: %s serving %s (%s) with %d slot(s)",
            url,
            model.name,
            model.path.name,
            app.engine.slot_count,
        )
        if ready_file is not None:
            _write_ready_file(ready_file, url=url, app=app)
    await serving


def _write_ready_file(path: Path, *, url: str, app: LocalEngineApp) -> None:
    document = {
        "url": url,
        "model_name": app.engine.model.name,
        "model_path": str(app.engine.model.path),
        "slots": app.engine.slot_count,
        "pid": os.getpid(),
    }
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(json.dumps(document))
    os.replace(partial, path)


if __name__ == "__main__":
    main()
