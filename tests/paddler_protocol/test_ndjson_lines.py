"""Cutting a chunked NDJSON body into lines."""

from __future__ import annotations

import pytest

from paddler_protocol.errors import UpstreamProtocolError
from paddler_protocol.ndjson_lines import NdjsonLines


def test_a_line_split_across_chunks_is_returned_once_complete() -> None:
    lines = NdjsonLines()

    assert lines.feed(b'{"a":') == []
    assert lines.feed(b"1") == []
    assert lines.feed(b'}\n{"b"') == [b'{"a":1}']
    assert lines.feed(b":2}\n") == [b'{"b":2}']


def test_several_lines_in_one_chunk_are_all_returned_in_order() -> None:
    assert NdjsonLines().feed(b"one\ntwo\nthree\n") == [b"one", b"two", b"three"]


def test_blank_lines_are_skipped() -> None:
    lines = NdjsonLines()

    assert lines.feed(b"\none\n\n  \n\r\ntwo\n\n") == [b"one", b"two"]


def test_crlf_line_endings_are_tolerated() -> None:
    lines = NdjsonLines()

    assert lines.feed(b"one\r\ntwo\r") == [b"one"]
    assert lines.feed(b"\n") == [b"two"]


def test_an_unterminated_last_line_is_returned_at_the_end() -> None:
    lines = NdjsonLines()
    lines.feed(b"one\ntw")

    assert lines.feed(b"o") == []
    assert lines.finish() == b"two"


def test_a_body_ending_with_a_newline_leaves_nothing_at_the_end() -> None:
    lines = NdjsonLines()
    lines.feed(b"one\n")

    assert lines.finish() is None


def test_trailing_whitespace_at_the_end_is_not_a_line() -> None:
    lines = NdjsonLines()
    lines.feed(b"one\n  ")

    assert lines.finish() is None


def test_feeding_byte_by_byte_gives_the_same_lines() -> None:
    body = b'{"x":"\xc3\xbc"}\n\n{"y":2}\r\n{"z":3}\n'
    lines = NdjsonLines()

    received = [line for index in range(len(body)) for line in lines.feed(body[index : index + 1])]

    assert received == [b'{"x":"\xc3\xbc"}', b'{"y":2}', b'{"z":3}']


def test_a_line_longer_than_the_cap_is_a_protocol_error() -> None:
    lines = NdjsonLines(max_line_bytes=8)
    lines.feed(b"12345")

    with pytest.raises(UpstreamProtocolError):
        lines.feed(b"67890")
