"""The load generator: keep-alive HTTP/1.1 connections on raw asyncio with httptools, bounded by count and time.

Lighter than an HTTP client library on purpose: it shares two cores with the servers it measures, so every
microsecond it spends is taken from them. Each connection sends one request at a time (concurrency = number
of connections). Latency runs from the request's first byte to the response's last; time to first token to
the first body bytes carrying a non-empty `content` delta. A response counts as an error unless it has status
200 and the whole answer (`TOKENS` content chunks and `[DONE]` when streamed).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httptools

from bench.proxy.backend import TOKENS

CONTENT = re.compile(rb'"content": ?"[^"]')
DONE = b"data: [DONE]"


def request_bytes(port: int, path: str, *, stream: bool, api_key: str) -> bytes:
    body = json.dumps({"model": "bench-model", "stream": stream, "max_tokens": TOKENS,
                       "messages": [{"role": "user", "content": "Count to sixty-four."}]}).encode()
    head = (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
            f"authorization: Bearer {api_key}\r\ncontent-length: {len(body)}\r\n\r\n")
    return head.encode() + body


@dataclass
class Result:
    """Samples of one measured run (or several merged); times in seconds."""

    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    first_error: str = ""

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    def merge(self, other: Result) -> None:
        self.latencies += other.latencies
        self.ttfts += other.ttfts
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.first_error = self.first_error or other.first_error


class _Connection(asyncio.Protocol):
    """One keep-alive connection; `exchange` sends a request and resolves when its response is complete."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False
        self.parser: Any = None
        self.body: list[bytes] = []
        self.sent = self.first = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc!r}"))

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(exc)

    def on_body(self, body: bytes) -> None:
        if not self.first and CONTENT.search(body):
            self.first = time.perf_counter()
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def exchange(self, request: bytes) -> tuple[int, bytes, float, float]:
        """(status, body, latency, time to first content or 0)."""
        self.parser = httptools.HttpResponseParser(self)
        self.body, self.first = [], 0.0
        self.waiter = asyncio.get_running_loop().create_future()
        self.sent = time.perf_counter()
        self.transport.write(request)
        await self.waiter
        done = time.perf_counter()
        return self.parser.get_status_code(), b"".join(self.body), done - self.sent, (
            self.first - self.sent if self.first else 0.0)


async def _connect(port: int) -> _Connection:
    _, connection = await asyncio.get_running_loop().create_connection(_Connection, "127.0.0.1", port)
    return connection


def _problem(status: int, body: bytes, stream: bool) -> str:
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    if not stream:
        return "" if b'"content"' in body else f"no content: {body[:200]!r}"
    chunks = len(CONTENT.findall(body))
    if chunks != TOKENS or DONE not in body[-64:]:
        return f"incomplete stream: {chunks} content chunks, [DONE] {'present' if DONE in body else 'missing'}"
    return ""


async def run(port: int, request: bytes, *, stream: bool, concurrency: int, max_requests: int,
              max_seconds: float) -> Result:
    """Up to `max_requests` requests, or until `max_seconds` pass, over `concurrency` connections."""
    result = Result()
    connections = [await _connect(port) for _ in range(concurrency)]
    remaining = max_requests
    started = time.perf_counter()
    stop_at = started + max_seconds

    async def worker(connection: _Connection) -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < stop_at:
            remaining -= 1
            if connection.closed:
                connection = await _connect(port)
            try:
                status, body, latency, ttft = await asyncio.wait_for(connection.exchange(request), 30)
            except (OSError, TimeoutError, httptools.HttpParserError) as exc:
                result.errors += 1
                result.first_error = result.first_error or repr(exc)
                connection.transport.close()
                connection = await _connect(port)
                continue
            problem = _problem(status, body, stream)
            if problem:
                result.errors += 1
                result.first_error = result.first_error or problem
                continue
            result.latencies.append(latency)
            if stream:
                result.ttfts.append(ttft)
        connection.transport.close()

    await asyncio.gather(*(worker(connection) for connection in connections))
    result.elapsed = time.perf_counter() - started
    return result
