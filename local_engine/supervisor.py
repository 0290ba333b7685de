"""Run a command next to a local engine: ``make serve`` without a Paddler cluster.

    python -m local_engine.supervisor [--port 8061] [--model PATH] [--slots N] \\
        -- daphne -b 127.0.0.1 -p 8070 oarlock.asgi:application

1. starts ``python -m local_engine`` on loopback as a child process (never on another
   address: the engine has no authentication, so reaching it would bypass keys, limits and
   metering),
2. waits until it is healthy (``GET /health`` answers ``OK``), printing progress,
3. runs the command with ``PADDLER_INFERENCE_URL`` pointing at the engine,
   ``OARLOCK_DEFAULT_MODEL`` set to the model name the engine serves and ``OARLOCK_LOCAL_ENGINE=1``
   (Oarlock then answers 503 + retry-after, naming the local engine, while it is down),
4. watches the engine: when it exits or is killed it prints why (exit status or signal, and the
   engine's last log lines) and starts it again on the same port after a short, growing pause;
   an engine that keeps dying (``--max-restarts`` deaths within ``--restart-window`` seconds)
   stops the command and the supervisor exits with status 1 and the reason,
5. stops the engine when the command ends — also on Ctrl-C and SIGTERM — and exits with the
   command's status.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from local_engine.engine_process import EngineProcess, ReadyEngine
from local_engine.restart_policy import RestartPolicy

logger = logging.getLogger("local_engine.supervisor")

ENGINE_HOST = "127.0.0.1"
POLL_SECONDS = 0.25
PROGRESS_SECONDS = 3.0
STOP_GRACE_SECONDS = 10.0
SHOWN_LOG_LINES = 10
SHOWN_CRASH_LINES = 25
GAVE_UP_STATUS = 1


class EngineFailedToStart(Exception):
    pass


class Terminated(Exception):
    """SIGINT or SIGTERM arrived, or the command ended, while waiting for the engine."""


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


class Supervisor:
    def __init__(self, args: argparse.Namespace, scratch: Path, stop: StopSignal) -> None:
        self._args = args
        self._ready_file = scratch / "ready.json"
        self._stop = stop
        self._policy = RestartPolicy(max_restarts=args.max_restarts, window_seconds=args.restart_window)
        self._engine: EngineProcess | None = None
        self._command: subprocess.Popen[bytes] | None = None

    def run(self, command: list[str]) -> int:
        try:
            ready = self._start_engine(self._args.port)
        except EngineFailedToStart as error:
            logger.error("%s", error)
            return 1
        except Terminated:
            return 130
        logger.info("local engine is healthy at %s (pid %d), serving %r", ready.url, ready.pid, ready.model_name)
        environment = {
            **os.environ,
            "PADDLER_INFERENCE_URL": ready.url,
            "OARLOCK_DEFAULT_MODEL": ready.model_name,
            "OARLOCK_LOCAL_ENGINE": "1",
        }
        self._command = subprocess.Popen(command, env=environment)
        self._stop.watch(self._command)
        return self._watch(ready.port)

    def shutdown(self) -> None:
        if self._command is not None:
            _stop(self._command, "command")
        if self._engine is not None:
            _stop(self._engine.process, "local engine")

    def _watch(self, port: int) -> int:
        assert self._command is not None and self._engine is not None
        while True:
            status = self._command.poll()
            if status is not None:
                return 130 if self._stop.received is not None else status
            # Once stopping, an engine that ends (Ctrl-C reaches it too) is not a crash.
            engine_died = self._stop.received is None and self._engine.poll() is not None
            if engine_died and not self._restart(port):
                return GAVE_UP_STATUS
            time.sleep(POLL_SECONDS)

    def _restart(self, port: int) -> bool:
        """Bring a dead engine back; ``False`` when it died too often and the command was stopped."""
        assert self._engine is not None
        reason = f"the local engine (pid {self._engine.pid}) {self._engine.exit_reason()}"
        _report(reason, self._engine.last_lines())
        while True:
            delay = self._policy.record_death()
            if delay is None:
                logger.error(
                    "giving up: the local engine stopped %d times within %.0fs (the last time: %s). "
                    "Stopping rather than serving without it.",
                    self._policy.recent_deaths,
                    self._policy.window_seconds,
                    reason,
                )
                return False
            logger.warning(
                "restarting the local engine in %.0fs (restart %d of at most %d within %.0fs); "
                "until it is back, /v1 requests answer 503 with retry-after",
                delay,
                self._policy.recent_deaths,
                self._policy.max_restarts,
                self._policy.window_seconds,
            )
            try:
                self._pause(delay)
                ready = self._start_engine(port)
            except Terminated:
                return True  # the watch loop sees the stop or the command's end
            except EngineFailedToStart as error:
                reason = str(error)
                logger.error("%s", reason)
                continue
            logger.info("the local engine is back at %s (pid %d)", ready.url, ready.pid)
            return True

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._raise_if_interrupted()
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    def _raise_if_interrupted(self) -> None:
        self._stop.raise_if_received()
        if self._command is not None and self._command.poll() is not None:
            raise Terminated()

    def _start_engine(self, port: int) -> ReadyEngine:
        self._engine = EngineProcess(_engine_command(self._args, port, self._ready_file), ready_file=self._ready_file)
        return self._wait_until_healthy(self._engine)

    def _wait_until_healthy(self, engine: EngineProcess) -> ReadyEngine:
        started = last_progress = time.monotonic()
        logger.info("starting the local engine (loading the model)...")
        while True:
            self._raise_if_interrupted()
            if engine.poll() is not None:
                lines = engine.last_lines()
                raise EngineFailedToStart(
                    f"the local engine {engine.exit_reason()} before it was ready" + _indented(lines)
                )
            ready = engine.ready()
            if ready is not None:
                return ready
            waited = time.monotonic() - started
            if waited > self._args.startup_timeout:
                _stop(engine.process, "local engine")
                raise EngineFailedToStart(f"the local engine was not healthy after {self._args.startup_timeout:.0f}s")
            if time.monotonic() - last_progress >= PROGRESS_SECONDS:
                logger.info("still waiting for the local engine... (%.0fs)", waited)
                last_progress = time.monotonic()
            time.sleep(POLL_SECONDS)


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
        supervisor = Supervisor(args, Path(scratch), stop)
        try:
            return supervisor.run(command)
        finally:
            supervisor.shutdown()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_engine.supervisor",
        description="Start the local engine, run a command pointed at it, restart the engine when it "
        "dies, stop it after.",
    )
    parser.add_argument("--port", type=int, default=8061, help="0 picks a free port (kept across restarts)")
    parser.add_argument("--model", help="GGUF file (default: the packaged Gemma 3 270M)")
    parser.add_argument("--model-name", help="served model name (default: from the GGUF)")
    parser.add_argument("--slots", type=int)
    parser.add_argument("--startup-timeout", type=float, default=300.0, help="seconds")
    parser.add_argument(
        "--max-restarts",
        type=int,
        default=3,
        help="engine deaths tolerated within --restart-window before giving up (default 3)",
    )
    parser.add_argument("--restart-window", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    return parser


def _engine_command(args: argparse.Namespace, port: int, ready_file: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "local_engine",
        "--host",
        ENGINE_HOST,
        "--port",
        str(port),
        "--ready-file",
        str(ready_file),
    ]
    for flag, value in (("--model", args.model), ("--model-name", args.model_name), ("--slots", args.slots)):
        if value is not None:
            command += [flag, str(value)]
    return command


def _report(reason: str, lines: list[str]) -> None:
    logger.error("%s.%s", reason, _indented(lines) or " It printed nothing.")


def _indented(lines: list[str]) -> str:
    if not lines:
        return ""
    # faulthandler's report of a crash starts with this line: show it from there, not its tail.
    fatal = [index for index, line in enumerate(lines) if line.startswith("Fatal Python error")]
    shown = lines[fatal[-1] :][:SHOWN_CRASH_LINES] if fatal else lines[-SHOWN_LOG_LINES:]
    return " Its last log lines:\n" + "\n".join(f"    | {line}" for line in shown)


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
