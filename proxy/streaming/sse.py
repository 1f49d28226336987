"""Server-sent events both ways: encoding the proxy's own stream, and decoding a provider's byte stream."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

_EOL = re.compile(rb"\r\n|\r|\n")
KEEPALIVE = b": keep-alive\n\n"  # an SSE comment: every client's decoder skips it, yet it keeps sockets warm


def json_dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def sse_data(payload: Any) -> bytes:
    return f"data: {json_dumps(payload)}\n\n".encode()


def sse_event(event: str, payload: Any) -> bytes:
    return f"event: {event}\ndata: {json_dumps(payload)}\n\n".encode()


@dataclass(slots=True)
class SSEMessage:
    event: str
    data: str


async def lines_iter(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Bytes into text lines, whatever the chunk boundaries; CRLF, LF and CR all end a line (per the SSE spec)."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        if b"\r" not in pending:  # the usual LF-only framing: split and decode in C, once per chunk
            complete, newline, pending = pending.rpartition(b"\n")
            if newline:
                for line in complete.decode("utf-8", errors="replace").split("\n"):
                    yield line
            continue
        # A trailing CR may be the first half of a CRLF split across chunks, so it waits for the next chunk.
        end = len(pending) - 1 if pending.endswith(b"\r") else len(pending)
        start = 0
        for match in _EOL.finditer(pending, 0, end):
            yield pending[start:match.start()].decode("utf-8", errors="replace")
            start = match.end()
        pending = pending[start:]
    if pending:
        yield pending.rstrip(b"\r").decode("utf-8", errors="replace")


async def sse_iter(lines: AsyncIterator[str]) -> AsyncIterator[SSEMessage]:
    """Text lines into SSE messages; comments are dropped and a message ends at a blank line."""
    event, data = "", list[str]()
    async for line in lines:
        if not line:
            if data:
                yield SSEMessage(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield SSEMessage(event or "message", "\n".join(data))
