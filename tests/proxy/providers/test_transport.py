"""The lean plain-HTTP transport keeps httpx's contract: keep-alive reuse, whole bodies, httpx's own exceptions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from proxy.providers.transport import PlainHTTPTransport, transport_for

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(10)]

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
BODY = b'{"ok": true}'
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(BODY), BODY)


async def request_read(reader: asyncio.StreamReader) -> bytes:
    """One request's head and body, or b"" when the client hung up."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    return head + await reader.readexactly(length)


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[tuple[str, list[asyncio.StreamWriter]]]:
    """A raw loopback server running `handler` per connection; yields its base URL and the connections seen."""
    connections: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", connections


async def answer_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while await request_read(reader):
        writer.write(OK)


def client(base: str, *, max_connections: int = 4, **timeouts: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, transport=PlainHTTPTransport(max_connections=max_connections),
                             timeout=httpx.Timeout(5.0, **timeouts))


async def test_connections_are_kept_alive_and_reused() -> None:
    async with serving(answer_each) as (base, connections), client(base) as http:
        answers = [(await http.post("/v1/chat", json={"n": n})).json() for n in range(3)]
    assert answers == [{"ok": True}] * 3
    assert len(connections) == 1


async def test_a_chunked_stream_arrives_whole_and_its_connection_is_reused() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await request_read(reader):
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for piece in (b"data: one\n\n", b"data: two\n\n"):
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
            writer.write(b"0\r\n\r\n")

    async with serving(chunked) as (base, connections), client(base) as http:
        for _ in range(2):
            async with http.stream("POST", "/v1/chat", json={}) as response:
                body = b"".join([chunk async for chunk in response.aiter_raw()])
            assert body == b"data: one\n\ndata: two\n\n"
    assert len(connections) == 1


async def test_a_body_that_ends_with_the_connection_is_whole_and_not_reused() -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await request_read(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it")

    async with serving(until_close) as (base, connections), client(base) as http:
        assert (await http.post("/x", json={})).text == "all of it"
        assert (await http.post("/x", json={})).text == "all of it"
    assert len(connections) == 2


async def test_interim_responses_are_skipped() -> None:
    async def early_hints(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await request_read(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n" + OK)
        await reader.read()

    async with serving(early_hints) as (base, _), client(base) as http:
        response = await http.post("/x", json={})
    assert (response.status_code, response.json(), response.headers.get("link")) == (200, {"ok": True}, None)


async def test_a_server_that_hangs_up_before_answering_is_a_protocol_error() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await request_read(reader)

    async with serving(hang_up) as (base, _), client(base) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/x", json={})


async def test_a_refused_connection_is_a_connect_error() -> None:
    async with serving(answer_each) as (base, _):
        pass  # the port is free again
    async with client(base) as http:
        with pytest.raises(httpx.ConnectError):
            await http.post("/x", json={})


async def test_a_silent_server_is_a_read_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async with serving(silent) as (base, _), client(base, read=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/x", json={})


async def test_requests_beyond_the_pool_wait_for_a_connection_then_time_out() -> None:
    async def slow_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await request_read(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await reader.read()

    async with serving(slow_stream) as (base, _), client(base, max_connections=1, pool=0.2) as http:
        async with http.stream("POST", "/x", json={}):
            with pytest.raises(httpx.PoolTimeout):
                await http.post("/x", json={})


async def test_closing_a_stream_early_closes_its_connection() -> None:
    hung_up = asyncio.Event()

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await request_read(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await reader.read()  # returns when the client closes the connection
        hung_up.set()

    async with serving(endless) as (base, connections), client(base) as http:
        async with http.stream("POST", "/x", json={}) as response:
            async for _ in response.aiter_raw():
                break
        await asyncio.wait_for(hung_up.wait(), 2)


def test_only_plain_http_without_a_proxy_gets_the_lean_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(transport_for("http://127.0.0.1:8000/v1", max_connections=2), PlainHTTPTransport)
    assert transport_for("https://api.openai.com/v1", max_connections=2) is None
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    assert transport_for("http://gpu-box:8000/v1", max_connections=2) is None
    monkeypatch.setenv("NO_PROXY", "gpu-box")
    assert isinstance(transport_for("http://gpu-box:8000/v1", max_connections=2), PlainHTTPTransport)
