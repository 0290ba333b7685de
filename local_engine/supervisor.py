"""Run a command next to a local engine: ``make serve`` without a Paddler cluster.

    python -m local_engine.supervisor [--port 8061] [--model PATH] [--slots N] \\
        -- daphne -b 127.0.0.1 -p 8070 oarlock.asgi:application

1. starts ``python -m local_engine`` as a child process,
2. waits until it is healthy (``GET /health`` answers ``OK``), printing progress,
3. runs the command with ``PADDLER_INFERENCE_URL`` pointing at the engine and
   ``OARLOCK_DEFAULT_MODEL`` set to the model name the engine serves,
4. stops the engine when the command ends — also on Ctrl-C and SIGTERM — and exits with the
   command's status.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

logger = logging.getLogger("local_engine.supervisor")

POLL_SECONDS = 0.25
PROGRESS_SECONDS = 3.0
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ReadyEngine:
    url: str
    model_name: str


class EngineFailedToStart(Exception):
    pass


class Terminated(Exception):
    """SIGINT or SIGTERM arrived while waiting for the engine."""


class StopSignal:
    """Records SIGINT/SIGTERM and forwards SIGTERM to the running command.

    The handler raises nothing: an exception raised from a signal handler lands wherever the
    main thread happens to be — inside ``logging``'s ``emit()``, for instance, which swallows it.
    SIGINT is handled explicitly because a shell may have started us with it ignored.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._command: subprocess.Popen[bytes] | None = None

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def watch(self, command: subprocess.Popen[bytes]) -> None:
        self._command = command
        if self.received is not None:
            self._forward()

    def raise_if_received(self) -> None:
        if self.received is not None:
            raise Terminated()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        self._forward()

    def _forward(self) -> None:
        if self._command is not None and self._command.poll() is None:
            self._command.send_signal(signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        _parser().error("give the command to run after --")
    logging.basicConfig(level=logging.INFO, format="[supervisor] %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per health poll is noise
    stop = StopSignal()
    stop.install()
    with tempfile.TemporaryDirectory(prefix="oarlock-engine-") as scratch:
        ready_file = Path(scratch) / "ready.json"
        engine = subprocess.Popen(_engine_command(args, ready_file=ready_file))
        child: subprocess.Popen[bytes] | None = None
        try:
            ready = _wait_until_healthy(engine, ready_file, args.startup_timeout, stop)
            logger.info("local engine is healthy at %s, serving %r", ready.url, ready.model_name)
            environment = {
                **os.environ,
                "PADDLER_INFERENCE_URL": ready.url,
                "OARLOCK_DEFAULT_MODEL": ready.model_name,
            }
            child = subprocess.Popen(command, env=environment)
            stop.watch(child)
            status = child.wait()
            return 130 if stop.received is not None else status
        except EngineFailedToStart as error:
            logger.error("%s", error)
            return 1
        except Terminated:
            return 130
        finally:
            if child is not None:
                _stop(child, "command")
            _stop(engine, "local engine")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_engine.supervisor",
        description="Start the local engine, run a command pointed at it, stop the engine after.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8061)
    parser.add_argument("--model", help="GGUF file (default: the packaged Gemma 3 270M)")
    parser.add_argument("--model-name", help="served model name (default: from the GGUF)")
    parser.add_argument("--slots", type=int)
    parser.add_argument("--startup-timeout", type=float, default=300.0, help="seconds")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    return parser


def _engine_command(args: argparse.Namespace, *, ready_file: Path) -> list[str]:
    command = [
        sys.executable, "-m", "local_engine",
        "--host", args.host, "--port", str(args.port), "--ready-file", str(ready_file),
    ]
    for flag, value in (("--model", args.model), ("--model-name", args.model_name), ("--slots", args.slots)):
        if value is not None:
            command += [flag, str(value)]
    return command


def _wait_until_healthy(
    engine: subprocess.Popen[bytes], ready_file: Path, timeout: float, stop: StopSignal
) -> ReadyEngine:
    started = last_progress = time.monotonic()
    logger.info("starting the local engine (loading the model)...")
    while True:
        stop.raise_if_received()
        if engine.poll() is not None:
            raise EngineFailedToStart(f"the local engine exited with status {engine.returncode} before it was ready")
        ready = _read_ready_file(ready_file)
        if ready is not None and _healthy(ready.url):
            return ready
        waited = time.monotonic() - started
        if waited > timeout:
            raise EngineFailedToStart(f"the local engine was not healthy after {timeout:.0f}s")
        if time.monotonic() - last_progress >= PROGRESS_SECONDS:
            logger.info("still waiting for the local engine... (%.0fs)", waited)
            last_progress = time.monotonic()
        time.sleep(POLL_SECONDS)


def _read_ready_file(path: Path) -> ReadyEngine | None:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return ReadyEngine(url=document["url"], model_name=document["model_name"])


def _healthy(url: str) -> bool:
    try:
        response = httpx.get(f"{url}/health", timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.text == "OK"


def _stop(process: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM, then SIGKILL if it has not ended within the grace period."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        logger.warning("the %s did not stop within %.0fs: killing it", name, STOP_GRACE_SECONDS)
        process.kill()
        process.wait()
    logger.info("%s stopped", name)


if __name__ == "__main__":
    sys.exit(main())
