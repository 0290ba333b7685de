"""Serve a ``LocalEngineApp`` with uvicorn on a free port in a background thread (tests only)."""

from __future__ import annotations

import threading
import time

import uvicorn

from local_engine.engine_app import LocalEngineApp


class EngineServer:
    def __init__(self, app: LocalEngineApp) -> None:
        self.app = app
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=0,
                lifespan="on",
                log_level="warning",
                timeout_graceful_shutdown=2,
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="engine-server", daemon=True)
        self.url = ""

    def start(self) -> EngineServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the engine server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        # Lifespan shutdown awaits engine.aclose(): no generation outlives the test.
        self._server.should_exit = True
        self._thread.join(timeout=15)
