"""A lean httpx transport for providers on plain HTTP: HTTP/1.1 keep-alive connections parsed by httptools.

httpx's default transport (httpcore over anyio, parsed by h11) costs about half a millisecond of CPU per
request, which on a LAN model server (local, direct and fleet tiers) is most of the proxy's overhead. This one
does the same job for `http://` origins with asyncio protocols and the C parser uvicorn already uses, and keeps
httpx's contract: its Request and Response types, timeouts from the request, and httpx's exceptions, so the
adapters' error boundary is unchanged. TLS and environment proxies stay with httpx's default transport.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httptools
import httpx

KEEPALIVE_SECONDS = 5.0  # httpx's default: an idle connection older than this is not reused
_PAUSE_BYTES = 1 << 20  # stop reading a response this far ahead of its consumer


def transport_for(base_url: str, *, max_connections: int) -> httpx.AsyncBaseTransport | None:
    """The lean transport when `base_url` is plain HTTP reached without a proxy; None means httpx's default."""
    url = httpx.URL(base_url)
    if url.scheme != "http" or not url.host:
        return None
    if urllib.request.getproxies().get("http") and not urllib.request.proxy_bypass(url.host):
        return None  # an HTTP_PROXY that applies: httpx's default transport honours it
    return PlainHTTPTransport(max_connections=max_connections)


class _Connection(asyncio.Protocol):
    """One TCP connection carrying one request at a time; the parser's callbacks fill in the response."""

    def __init__(self, origin: tuple[str, int]) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.waiter: asyncio.Future[None] | None = None
        self.reset()

    def reset(self) -> None:
        self.error: Exception | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_done = self.complete = self.keep_alive = False
        self.received = False
        self.body: deque[bytes] = deque()
        self.buffered = 0
        self.paused = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed HTTP response: {exc}"))
            return
        if self.buffered > _PAUSE_BYTES and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.head_done and not self.complete and self._ends_at_close():
            self.on_message_complete()  # a body delimited by the connection's end is whole now
            return
        if not self.complete:
            what = "without sending a complete response" if self.received else "without sending a response"
            self._fail(httpx.RemoteProtocolError(f"server disconnected {what}"))

    # httptools callbacks

    def on_status(self, reason: bytes) -> None:
        self.reason = reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.parser.get_status_code() < 200:  # an interim response (103 Early Hints): the real one follows
            self.headers, self.reason = [], b""
            return
        self.head_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        self.buffered += len(body)
        self._wake()

    def on_message_complete(self) -> None:
        if self.head_done:
            self.complete = True
            self.keep_alive = self.parser.should_keep_alive()  # the parser forgets it once the message is over
            self._wake()

    # helpers

    def _ends_at_close(self) -> bool:
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, error: Exception) -> None:
        self.error = self.error or error
        self._wake()
        if self.transport is not None:
            self.transport.close()

    async def wait(self, timeout: float | None, on_timeout: type[httpx.TimeoutException],
                   request: httpx.Request) -> None:
        """Until the parser makes progress (or the connection fails)."""
        if self.error is not None:
            raise self.error
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            if timeout is None:
                await self.waiter
            else:
                async with asyncio.timeout(timeout):
                    await self.waiter
        except TimeoutError:
            raise on_timeout(f"no data within {timeout}s", request=request) from None
        finally:
            self.waiter = None
        if self.error is not None:
            raise self.error

    def take(self) -> bytes:
        data = b"".join(self.body) if len(self.body) > 1 else self.body[0]
        self.body.clear()
        self.buffered = 0
        if self.paused and self.transport is not None and self.usable:
            self.paused = False
            self.transport.resume_reading()
        return data

    @property
    def usable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _Body(httpx.AsyncByteStream):
    """The response body as it arrives, everything buffered in one piece; closing returns or drops the connection."""

    def __init__(self, pool: PlainHTTPTransport, connection: _Connection, request: httpx.Request,
                 read_timeout: float | None) -> None:
        self.pool, self.connection, self.request, self.read_timeout = pool, connection, request, read_timeout
        self.released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self.connection
        while True:
            if connection.body:
                yield connection.take()
            elif connection.complete:
                return
            else:
                await connection.wait(self.read_timeout, httpx.ReadTimeout, self.request)

    async def aclose(self) -> None:
        if not self.released:
            self.released = True
            self.pool.release(self.connection, reusable=self.connection.complete and not self.connection.body)


class PlainHTTPTransport(httpx.AsyncBaseTransport):
    """Keep-alive pool of at most `max_connections` connections per transport, for `http://` origins only.

    Made for the providers' requests (POST and GET): a HEAD response's body would be waited for.
    """

    def __init__(self, *, max_connections: int) -> None:
        self.slots = asyncio.Semaphore(max_connections)
        self.idle: dict[tuple[str, int], list[_Connection]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        await self._slot(timeouts.get("pool"), request)
        connection: _Connection | None = None
        try:
            connection = await self._connection(request, timeouts.get("connect"))
            connection.transport.write(_head(request) + await _content(request))  # type: ignore[union-attr]
            read_timeout = timeouts.get("read")
            while not connection.head_done:
                await connection.wait(read_timeout, httpx.ReadTimeout, request)
        except BaseException:
            if connection is not None:
                connection.close()
            self.slots.release()
            raise
        parser = connection.parser
        return httpx.Response(
            parser.get_status_code(), headers=connection.headers,
            stream=_Body(self, connection, request, read_timeout),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": connection.reason},
        )

    async def _slot(self, timeout: float | None, request: httpx.Request) -> None:
        if not self.slots.locked():
            await self.slots.acquire()  # free: returns at once
            return
        try:
            async with asyncio.timeout(timeout):
                await self.slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection in time", request=request) from None

    async def _connection(self, request: httpx.Request, timeout: float | None) -> _Connection:
        url = request.url
        origin = (url.host, url.port or 80)
        idle = self.idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable and now - connection.idle_since < KEEPALIVE_SECONDS:
                connection.reset()
                return connection
            connection.close()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await asyncio.get_running_loop().create_connection(lambda: _Connection(origin), *origin)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {origin[0]}:{origin[1]} timed out", request=request) from None
        except OSError as exc:
            raise httpx.ConnectError(f"connecting to {origin[0]}:{origin[1]}: {exc}", request=request) from exc
        return connection

    def release(self, connection: _Connection, *, reusable: bool) -> None:
        self.slots.release()
        if reusable and connection.keep_alive and connection.usable:
            connection.idle_since = time.monotonic()
            self.idle.setdefault(connection.origin, []).append(connection)
            return
        connection.close()

    async def aclose(self) -> None:
        for connections in self.idle.values():
            for connection in connections:
                connection.close()
        self.idle.clear()


def _head(request: httpx.Request) -> bytes:
    lines = [b"%s %s HTTP/1.1\r\n" % (request.method.encode(), request.url.raw_path)]
    lines += [b"%s: %s\r\n" % (name, value) for name, value in request.headers.raw]
    lines.append(b"\r\n")
    return b"".join(lines)


async def _content(request: httpx.Request) -> bytes:
    content = await request.aread()
    if request.headers.get("transfer-encoding", "").lower() == "chunked":
        return b"%x\r\n%s\r\n0\r\n\r\n" % (len(content), content) if content else b"0\r\n\r\n"
    return content
