"""One log record is one line, whatever text a client managed to put into it."""

from __future__ import annotations

import io
import logging

from django.conf import settings

from oarlock.log_filters import EscapedMessageFilter, escape_log_text


def test_the_console_handler_escapes_every_message() -> None:
    assert "escaped_message" in settings.LOGGING["handlers"]["console"]["filters"]


def test_a_newline_in_a_logged_value_is_escaped_and_cannot_start_a_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(EscapedMessageFilter())
    logger = logging.getLogger("tests.forged")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("model=%s status=%s", "x\nFAKE LOG LINE\r\u2028also", 400)
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines == ["model=x\\nFAKE LOG LINE\\r\\u2028also status=400"]


def test_printable_text_is_left_as_it_is() -> None:
    text = "tenant=Ωmega key=oar_ab12 model=qwen3:0.6b 😀"
    assert escape_log_text(text) is text
