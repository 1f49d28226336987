"""A fast fake OpenAI chat-completions backend: one process, raw asyncio with httptools, canned answers.

It does as little as it can per request, so what the benchmark measures is the proxies in front of it.
Wire format as OpenAI's (and vLLM's): `chat.completion` JSON, or `chat.completion.chunk` SSE events with
`[DONE]`, sent with chunked transfer encoding over keep-alive connections. Each stream event is its own
write, as a real server emits tokens one by one.

Run: `python -m bench.proxy.backend --port 0` prints `port N` on stdout once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import httptools
import uvloop

MODEL = "bench-model"
TOKENS = 64  # content chunks per streamed answer, and words in a whole one
WORDS = [f" tok{i}" for i in range(TOKENS)]
PROMPT_TOKENS = 12


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000, "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


USAGE = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": TOKENS, "total_tokens": PROMPT_TOKENS + TOKENS}
COMPLETION = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": MODEL,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(WORDS)}, "finish_reason": "stop"}],
    "usage": USAGE,
}, separators=(",", ":")).encode()
WHOLE = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(COMPLETION)
         + COMPLETION)
STREAM_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
STREAM_EVENTS = [
    _chunked(_sse(_chunk({"role": "assistant", "content": ""}))),
    *(_chunked(_sse(_chunk({"content": word}))) for word in WORDS),
    _chunked(_sse(_chunk({}, "stop"))),
]
USAGE_EVENT = _chunked(_sse({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000,
                              "model": MODEL, "choices": [], "usage": USAGE}))
STREAM_END = _chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
MODELS = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]}).encode()
MODELS_RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
    len(MODELS), MODELS)


class BackendProtocol(asyncio.Protocol):
    """One keep-alive connection: parse requests with httptools, answer each from the canned bytes."""

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport subclasses
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        url, body = self.url, b"".join(self.body)
        self.url, self.body = b"", []
        if url.endswith(b"/chat/completions"):
            self.answer(json.loads(body))
        elif url.endswith(b"/models"):
            self.transport.write(MODELS_RESPONSE)
        else:
            self.transport.write(NOT_FOUND)

    def answer(self, request: dict[str, Any]) -> None:
        write = self.transport.write
        if not request.get("stream"):
            write(WHOLE)
            return
        write(STREAM_HEAD)
        for event in STREAM_EVENTS:
            write(event)
        if (request.get("stream_options") or {}).get("include_usage"):
            write(USAGE_EVENT)
        write(STREAM_END)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(BackendProtocol, "127.0.0.1", port, backlog=1024)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        uvloop.run(serve(args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
