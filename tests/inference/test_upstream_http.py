"""The minimal HTTP/1.1 pieces under the Paddler client: chunked decoding and the origin."""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest

from inference.upstream_http import (
    ChunkedBody,
    HttpOrigin,
    MalformedResponse,
    send_request,
)
from paddler_protocol.errors import UpstreamProtocolError


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


@pytest.mark.parametrize(
    "framing",
    [b"zz\r\nab\r\n", b"2\r\nabXY", b"\r\n", b"-1\r\n", b"1" * 2000, b"0\r\n" + b"X" * 70_000],
)
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


async def serve_once(response_head: bytes) -> tuple[asyncio.Server, asyncio.Future[bytes]]:
    """A one-shot server that answers ``response_head`` and resolves with what it read after."""
    hung_up: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(response_head)
        await writer.drain()
        hung_up.set_result(await reader.read())  # b"" once the client closes its side
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, hung_up


# Without an explicit close only the garbage collector's "unclosed StreamWriter" rescue hangs up.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("length", [b"abc", b"-1"])
async def test_an_invalid_content_length_is_malformed_and_hangs_up(length: bytes) -> None:
    server, hung_up = await serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: " + length + b"\r\n\r\n")
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(MalformedResponse):
            await send_request(
                HttpOrigin.from_url(f"http://127.0.0.1:{port}"),
                "GET",
                "/",
                connect_timeout=1.0,
                read_timeout=1.0,
            )
        assert await asyncio.wait_for(hung_up, 1.0) == b""


async def test_an_https_origin_speaks_tls_from_the_first_byte() -> None:
    first_bytes: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first_bytes.set_result(await reader.read(3))
        writer.close()

    server = await asyncio.start_server(record, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(OSError):  # the "server" answers no handshake
            await send_request(
                HttpOrigin.from_url(f"https://127.0.0.1:{port}"),
                "GET",
                "/",
                connect_timeout=1.0,
                read_timeout=1.0,
            )
        # A TLS handshake record (0x16, version 3.x), not "GET".
        assert (await asyncio.wait_for(first_bytes, 1.0))[:2] == b"\x16\x03"


async def test_https_requests_do_not_reload_the_ca_store_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[ssl.SSLContext] = []
    real_default_context = ssl.create_default_context

    def counting_default_context() -> ssl.SSLContext:
        context = real_default_context()
        built.append(context)
        return context

    monkeypatch.setattr(ssl, "create_default_context", counting_default_context)
    origin = HttpOrigin.from_url(f"https://127.0.0.1:{closed_port()}")
    for _ in range(2):
        with pytest.raises(OSError):
            await send_request(origin, "GET", "/", connect_timeout=1.0, read_timeout=1.0)

    assert len(built) <= 1
