"""The minimal HTTP/1.1 pieces under the Paddler client: chunked decoding and the origin."""

from __future__ import annotations

import pytest

from inference.errors import UpstreamProtocolError
from inference.upstream_http import ChunkedBody, HttpOrigin

BODY = b'5\r\n{"a":\r\n1;ext=1\r\n1\r\n3\r\n}\n\n\r\n0\r\nX-Trailer: y\r\n\r\n'
PAYLOAD = b'{"a":1}\n\n'


def test_a_chunked_body_decodes_to_its_payload_whatever_the_arrival_boundaries() -> None:
    for split in range(len(BODY) + 1):
        decoder = ChunkedBody()
        received = decoder.feed(BODY[:split]) + decoder.feed(BODY[split:])
        assert received == PAYLOAD, split
        assert decoder.finished, split


def test_a_chunked_body_fed_byte_by_byte_decodes_to_its_payload() -> None:
    decoder = ChunkedBody()
    received = b"".join(decoder.feed(BODY[i : i + 1]) for i in range(len(BODY)))
    assert received == PAYLOAD
    assert decoder.finished


def test_a_chunked_body_is_unfinished_until_its_last_chunk() -> None:
    decoder = ChunkedBody()
    assert decoder.feed(b"3\r\nabc\r\n") == b"abc"
    assert not decoder.finished


@pytest.mark.parametrize("framing", [b"zz\r\nab\r\n", b"2\r\nabXY", b"\r\n", b"-1\r\n", b"1" * 2000])
def test_broken_chunk_framing_is_a_protocol_error(framing: bytes) -> None:
    with pytest.raises(UpstreamProtocolError):
        ChunkedBody().feed(framing)


@pytest.mark.parametrize(
    ("url", "host_header", "base_path"),
    [
        ("http://127.0.0.1:8061", "127.0.0.1:8061", ""),
        ("http://paddler/", "paddler", ""),
        ("https://paddler.internal/inference/", "paddler.internal", "/inference"),
        ("http://[::1]:9000", "[::1]:9000", ""),
    ],
)
def test_the_origin_of_an_upstream_url(url: str, host_header: str, base_path: str) -> None:
    origin = HttpOrigin.from_url(url)
    assert origin.host_header == host_header
    assert origin.base_path == base_path
