"""``OARLOCK_LOG_FORMAT=json``: every log line is one JSON object carrying the request id."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import openai

from tests.factories import make_api_key
from tests.live_server import LiveServer


def _json_lines(server: LiveServer) -> list[dict[str, Any]]:
    lines = []
    for line in server.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_json_log_lines_carry_the_request_id(
    live_server_factory: Callable[..., LiveServer], transactional_db: None
) -> None:
    server = live_server_factory({"OARLOCK_LOG_FORMAT": "json"})
    _, secret = make_api_key()
    with openai.OpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=20) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="default", messages=[{"role": "user", "content": "Hi"}]
        )
    request_id = raw.headers["x-request-id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        mine = [line for line in _json_lines(server) if line["request_id"] == request_id]
        if mine:
            break
        time.sleep(0.05)
    assert [line["message"].split(" ", 2)[:2] for line in mine] == [["request", "done"]], server.log_tail()
    assert mine[0]["level"] == "INFO" and mine[0]["logger"] == "usage.usage_meter"
    assert "outcome=completed" in mine[0]["message"]
    assert secret not in server.log_path.read_text()
