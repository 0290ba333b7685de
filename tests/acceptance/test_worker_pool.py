"""``make serve WORKERS=2`` (real make, two Daphne workers on one port: oarlock/worker_pool.py) — serving,
surviving a killed worker, and ``/metrics`` summing what both of them served.

To know which worker serves a request, the other one is paused (SIGSTOP): a stopped process
cannot accept, so every new connection on the shared socket goes to the running one.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from django.conf import settings

from tests.factories import make_api_key
from tests.fake_paddler import FakePaddlerServer
from tests.live_server import PROJECT_DIR, LiveServer

METRICS_TOKEN = "metrics-token-for-tests"
USER = [{"role": "user", "content": "Hi"}]


class WorkerPoolServer(LiveServer):
    """``make serve WORKERS=2`` on a free port, in a process group of its own (make, the pool and
    its workers are stopped together)."""

    def command(self) -> list[str]:
        return [
            "setsid",
            "make",
            "--no-print-directory",
            "serve",
            "WORKERS=2",
            "HOST=127.0.0.1",
            f"PORT={self.port}",
            f"BIN={os.path.dirname(sys.executable)}",
        ]

    def start(self, timeout: float = 90.0) -> WorkerPoolServer:
        super().start(timeout)
        return self

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                return self.process.wait(5)
        return None if self.process is None else self.process.returncode

    def worker_pids(self) -> list[int]:
        """Pids of the workers the pool has started, oldest first."""
        return [int(pid) for pid in re.findall(r"started \(pid (\d+)\)", self.log_path.read_text())]

    def wait_for_workers(self, count: int, timeout: float = 30.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} workers never started:\n{self.log_tail()}")
            time.sleep(0.1)
        return self.worker_pids()


@pytest.fixture
def redis_url() -> str:
    if not settings.REDIS_URL:
        pytest.skip("several workers need REDIS_URL (redis://127.0.0.1:6379/N)")
    return settings.REDIS_URL


@pytest.fixture
def pool(fake_paddler: FakePaddlerServer, redis_url: str, transactional_db: None) -> Iterator[WorkerPoolServer]:
    server = WorkerPoolServer(
        {
            "PADDLER_INFERENCE_URL": fake_paddler.url,
            "OARLOCK_DEFAULT_MODEL": "default",
            "REDIS_URL": redis_url,
            "OARLOCK_METRICS_TOKEN": METRICS_TOKEN,
        }
    ).start()
    server.wait_for_workers(2)
    yield server
    _resume_all(server)
    server.stop()


def _resume_all(server: WorkerPoolServer) -> None:
    for pid in server.worker_pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def _one_of_each(server: LiveServer, secret: str) -> None:
    """A chat completion, a chat stream and a Responses stream, each on a new connection."""
    with openai.OpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=20) as sdk:
        assert sdk.chat.completions.create(model="default", messages=USER).choices[0].message.content
    with openai.OpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=20) as sdk:
        assert list(sdk.chat.completions.create(model="default", messages=USER, stream=True))
    with openai.OpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=20) as sdk:
        assert sdk.responses.create(model="default", input="Hi").output_text


def _metrics(server: LiveServer, token: str | None = METRICS_TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(server.url + "/metrics", headers=headers, timeout=20)


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line[len(name) : line.rindex("}") + 1]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_two_workers_serve_one_port_and_a_killed_worker_is_replaced(pool: WorkerPoolServer) -> None:
    _, secret = make_api_key()
    first, second = pool.wait_for_workers(2)
    _one_of_each(pool, secret)
    os.kill(first, signal.SIGKILL)
    # The port stays served by the survivor while the pool starts a replacement.
    for _ in range(5):
        _one_of_each(pool, secret)
    pids = pool.wait_for_workers(3)
    assert pids[2] not in (first, second)
    assert "was killed by SIGKILL; restarting it" in pool.log_path.read_text()
    os.kill(second, signal.SIGSTOP)  # now only the replacement can answer
    try:
        _one_of_each(pool, secret)
    finally:
        os.kill(second, signal.SIGCONT)


def test_metrics_count_each_endpoint_in_both_workers(pool: WorkerPoolServer) -> None:
    _, secret = make_api_key()
    for paused in pool.wait_for_workers(2):
        os.kill(paused, signal.SIGSTOP)
        try:
            _one_of_each(pool, secret)
        finally:
            os.kill(paused, signal.SIGCONT)
    text = _metrics(pool).text
    completed = {"model": "default", "status": "200", "outcome": "completed"}
    assert _sample(text, "oarlock_requests_total", endpoint="chat.completions", **completed) == 4
    assert _sample(text, "oarlock_requests_total", endpoint="responses", **completed) == 2
    assert _sample(text, "oarlock_tokens_total", endpoint="responses", kind="completion") > 0
    assert _sample(text, "oarlock_request_duration_seconds_count", endpoint="chat.completions", streamed="true") == 2
    assert _sample(text, "oarlock_time_to_first_token_seconds_count", endpoint="chat.completions") == 4
    assert _sample(text, "oarlock_requests_in_flight", endpoint="chat.completions") == 0
    assert _sample(text, "oarlock_upstream_up", upstream="default") == 1


def test_metrics_are_refused_without_their_token(pool: WorkerPoolServer, live_server: LiveServer) -> None:
    assert _metrics(pool, token=None).status_code == 401
    assert _metrics(pool, token="not-the-token").status_code == 401
    assert _metrics(pool).status_code == 200
    # A server started without OARLOCK_METRICS_TOKEN does not serve /metrics at all.
    assert _metrics(live_server).status_code == 404


def _connections_held(pid: int, port: int) -> int:
    """How many established connections to ``port`` the process ``pid`` holds (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
                if local_port == port and state == "01" and inode in inodes:  # 01: ESTABLISHED
                    held += 1
    return held


def test_a_burst_of_keep_alive_connections_is_shared_by_the_workers(pool: WorkerPoolServer) -> None:
    """A client (or proxy) opening its keep-alive pool at once gets both workers, not one.

    Twisted accepts every pending connection in one wake-up unless told otherwise, so the first
    worker to wake took all ten and the second idled (oarlock/accept_one_at_a_time.py)."""
    _, secret = make_api_key()
    workers = pool.wait_for_workers(2)
    for paused in workers:  # both have served this request once (first-request set-up done)
        os.kill(paused, signal.SIGSTOP)
        try:
            models = httpx.get(pool.base_url + "/models", headers={"Authorization": f"Bearer {secret}"}, timeout=20)
            assert models.status_code == 200
        finally:
            os.kill(paused, signal.SIGCONT)
    time.sleep(0.2)  # both heartbeats fresh again (oarlock/connection_balance.py)
    burst = [socket.create_connection(("127.0.0.1", pool.port)) for _ in range(10)]
    try:
        request = (f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {secret}\r\n\r\n").encode()
        for connection in burst:
            connection.sendall(request)
        for connection in burst:
            connection.settimeout(20)
            assert connection.recv(65536).startswith(b"HTTP/1.1 200")
        held = [_connections_held(pid, pool.port) for pid in workers]
        assert sum(held) == 10
        assert max(held) - min(held) <= 2, f"connections per worker: {held}"
    finally:
        for connection in burst:
            connection.close()


def test_several_workers_without_redis_are_refused_with_a_reason() -> None:
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "oarlock.worker_pool", "--workers", "2", "-p", "0"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "2 workers need REDIS_URL" in done.stderr
