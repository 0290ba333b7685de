"""The request's life in the order a gateway needs (compat_api/request_lifecycle.py).

A bad key or a request over its per-minute or in-flight limit is answered from the headers,
while the client is still sending its body; bounded work per body (size, JSON depth); and a
large body does not make everyone else wait. Served by uvicorn here: it hands the body to the
application as it arrives (Daphne spools a whole body before it calls the application, so
there Oarlock skips reading and decoding it, but the server has already received it).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable

import httpx
import openai
import pytest

from tests.factories import make_api_key
from tests.fake_paddler import FakePaddlerServer
from tests.fake_paddler_scripts import plain_content
from tests.live_server import LiveServer

BIG = 3 * 1024 * 1024  # under the 4 MiB cap


@pytest.fixture
def server(live_server_factory: Callable[..., LiveServer], transactional_db: None) -> LiveServer:
    return live_server_factory({"REDIS_URL": ""}, server="uvicorn")


def answer_while_the_body_is_unsent(server: LiveServer, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    """Send the headers of a 3 MiB body and its first 64 KiB only; return the answer."""
    host, port = "127.0.0.1", server.port
    lines = [
        "POST /v1/chat/completions HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {BIG}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection((host, port), timeout=5) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b'{"model": "default", "x": "' + b"x" * 65536)
        received = b""
        # The rest of the body is never sent: an answer can only come from the headers.
        while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < _length(received):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    head, body = received.split(b"\r\n\r\n", 1)
    return int(head.split(b" ")[1]), json.loads(body)


def _length(received: bytes) -> int:
    for line in received.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_a_missing_key_is_answered_401_before_the_body_is_sent(server: LiveServer) -> None:
    status, body = answer_while_the_body_is_unsent(server, {})
    assert status == 401
    assert body["error"]["code"] == "invalid_api_key"  # type: ignore[index]


def test_a_wrong_key_is_answered_401_before_the_body_is_sent(server: LiveServer) -> None:
    status, _ = answer_while_the_body_is_unsent(server, {"Authorization": "Bearer oar_not-a-key"})
    assert status == 401


def test_a_request_over_its_rpm_is_answered_429_before_the_body_is_sent(
    server: LiveServer, fake_paddler: FakePaddlerServer
) -> None:
    _, secret = make_api_key(rpm=1)
    fake_paddler.script(plain_content("Hi"))
    client = openai.OpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=30)
    client.chat.completions.create(model="default", messages=[{"role": "user", "content": "Hi"}])

    status, body = answer_while_the_body_is_unsent(server, {"Authorization": f"Bearer {secret}"})

    assert status == 429
    assert body["error"]["code"] == "rate_limit_exceeded"  # type: ignore[index]
    assert len(fake_paddler.requests) == 1  # the refused one never reached the upstream


def test_json_nested_100000_deep_is_a_400_not_a_500(server: LiveServer) -> None:
    _, secret = make_api_key()
    deep = b'{"model": "default", "messages": [], "metadata": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001
    response = httpx.post(
        server.base_url + "/chat/completions",
        content=deep,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_json_a_little_too_deep_is_a_400(server: LiveServer) -> None:
    _, secret = make_api_key()
    deep = {"model": "default", "messages": [{"role": "user", "content": "Hi"}], "metadata": {}}
    node = deep["metadata"]
    for _ in range(70):
        node["a"] = {}  # type: ignore[index]
        node = node["a"]  # type: ignore[index]
    response = httpx.post(
        server.base_url + "/chat/completions", json=deep, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )
    assert response.status_code == 400, response.text
    assert "64 levels" in response.json()["error"]["message"]


def test_a_body_over_the_default_cap_is_a_413(server: LiveServer) -> None:
    _, secret = make_api_key()
    response = httpx.post(
        server.base_url + "/chat/completions",
        content=b"x" * (4 * 1024 * 1024 + 1),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


@pytest.mark.parametrize("endpoint", ["/chat/completions", "/responses"])
@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_a_normal_request_completes_promptly_while_another_client_uploads_the_largest_body(
    server: LiveServer, fake_paddler: FakePaddlerServer, endpoint: str, framing: str
) -> None:
    """Decoding, validating and translating the largest body happen off the event loop, however
    the body is framed (a chunked one is read like any other)."""
    _, secret = make_api_key()
    # The largest body allowed, made of many small nodes: the costliest to decode, validate and
    # translate.
    message = {"role": "user", "content": "x"}
    count = (4 * 1024 * 1024 - 200) // len(json.dumps(message) + ", ")
    body = (
        {"model": "default", "max_tokens": 1, "messages": [message] * count}
        if endpoint == "/chat/completions"
        else {"model": "default", "max_output_tokens": 16, "input": [message] * count}
    )
    big = json.dumps(body).encode()
    assert len(big) <= 4 * 1024 * 1024
    uploaded = threading.Event()
    big_status: list[int] = []

    def upload() -> None:
        def chunks():  # a client on a slow link: the body arrives over about a second
            for start in range(0, len(big), 256 * 1024):
                yield big[start : start + 256 * 1024]
                time.sleep(0.05)
            uploaded.set()

        # With a Content-Length httpx streams the iterator as the body; without one, chunked.
        length = {"Content-Length": str(len(big))} if framing == "content-length" else {}
        response = httpx.post(
            server.base_url + endpoint,
            content=chunks(),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json", **length},
            timeout=60,
        )
        big_status.append(response.status_code)

    fake_paddler.script(plain_content("Hi"))
    client = openai.OpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=30)
    client.chat.completions.create(model="default", messages=[{"role": "user", "content": "warm"}])
    uploader = threading.Thread(target=upload)
    uploader.start()
    slowest = 0.0
    while not big_status:
        fake_paddler.script(plain_content("Hi"))
        started = time.monotonic()
        client.chat.completions.create(model="default", messages=[{"role": "user", "content": "Hi"}])
        slowest = max(slowest, time.monotonic() - started)
    uploader.join()

    assert uploaded.is_set()
    # The big body was read, validated and answered (not refused as a body seen as empty).
    assert big_status == [200]
    assert slowest < 0.6, f"a small request waited {slowest:.2f}s behind the big body"
