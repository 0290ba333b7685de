"""The console handler writes from its own thread: what a reader of the log sees must not change."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from foundation.request_context import current_request_id
from oarlock.background_log_handler import BackgroundStreamHandler
from oarlock.json_log_formatter import JsonLogFormatter
from oarlock.log_filters import EscapedMessageFilter, RequestContextFilter


@pytest.fixture
def written() -> Iterator[tuple[logging.Logger, BackgroundStreamHandler, io.StringIO]]:
    stream = io.StringIO()
    handler = BackgroundStreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.addFilter(EscapedMessageFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s [%(request_id)s] %(message)s"))
    logger = logging.getLogger("tests.background_log_handler")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, handler, stream
    logger.removeHandler(handler)
    handler.close()


def test_lines_keep_their_order_and_the_callers_request_id(
    written: tuple[logging.Logger, BackgroundStreamHandler, io.StringIO],
) -> None:
    logger, handler, stream = written
    for number in range(200):
        token = current_request_id.set(f"req_{number}")
        try:
            logger.info("line %s", number)
        finally:
            current_request_id.reset(token)
    handler.flush_and_stop()
    assert stream.getvalue().splitlines() == [f"INFO [req_{n}] line {n}" for n in range(200)]


def test_arguments_are_rendered_when_logged_not_when_written(
    written: tuple[logging.Logger, BackgroundStreamHandler, io.StringIO],
) -> None:
    logger, handler, stream = written
    tools = ["search"]
    logger.info("tools %s\nforged line", tools)
    tools.append("changed afterwards")
    handler.flush_and_stop()
    assert stream.getvalue().splitlines() == ["INFO [-] tools ['search']\\nforged line"]


def test_an_exception_keeps_its_traceback_in_json_lines() -> None:
    stream = io.StringIO()
    handler = BackgroundStreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("tests.background_log_handler.json")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError("upstream went away")
        except RuntimeError:
            logger.exception("relay failed")
        handler.flush_and_stop()
    finally:
        logger.removeHandler(handler)
        handler.close()
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == "relay failed"
    assert "RuntimeError: upstream went away" in line["exception"]
    assert "Traceback (most recent call last)" in line["exception"]
