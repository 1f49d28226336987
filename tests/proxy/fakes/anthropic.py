"""A fake Anthropic messages server: the full SSE event sequence, count_tokens, and Anthropic's error bodies.

Follows the public Messages API reference: message_start, content_block_start/delta/stop (text_delta,
input_json_delta, thinking_delta, signature_delta), ping, message_delta with usage, message_stop; errors as
`{"type": "error", "error": {"type": ..., "message": ...}}` with 429 rate_limit_error and 529 overloaded_error.
"""

from __future__ import annotations

import json
from typing import Any

from tests.proxy.fakes.script import (
    Behaviour,
    Die,
    Fail,
    FakeProvider,
    Receive,
    Reply,
    Send,
    Stall,
    drop,
    play,
    respond,
    stream_start,
    thirds,
    wait_gone,
    words,
)

STOP = {"end": "end_turn", "length": "max_tokens"}
MID_SYSTEM_BETA = "mid-conversation-system-2026-04-07"


def event(name: str, payload: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()


class FakeAnthropic(FakeProvider):
    async def handle(self, method: str, path: str, headers: dict[str, str], body: Any, receive: Receive,
                     send: Send) -> None:
        if self.api_key and headers.get("x-api-key") != self.api_key:
            await self._error(send, Fail("auth"))
            return
        if "anthropic-version" not in headers:
            await respond(send, 400, {"type": "error", "error": {"type": "invalid_request_error",
                                                                 "message": "anthropic-version header is required"}})
            return
        if path == "/v1/messages/count_tokens":
            # A formula unlike the proxy's estimator, so tests can tell a forwarded count from an estimate.
            await respond(send, 200, {"input_tokens": 1000 + len(json.dumps(body["messages"]))})
        elif path == "/v1/messages":
            await self._messages(send, receive, body)
        else:
            await respond(send, 404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}})

    async def _messages(self, send: Send, receive: Receive, body: dict[str, Any]) -> None:
        behaviour = self.next(body["model"])
        if isinstance(behaviour, Fail):
            await self._error(send, behaviour)
            return
        reply = behaviour if isinstance(behaviour, Reply) else behaviour.reply
        if not body.get("stream"):
            if isinstance(behaviour, Die):
                await drop(send)
            if isinstance(behaviour, Stall):
                await wait_gone(receive, behaviour.seconds)
            await respond(send, 200, self._message(body["model"], reply))
            return
        await stream_start(send, b"text/event-stream")
        await play(self._frames(body["model"], behaviour), behaviour, send, receive, self._error_frame)

    def _content(self, reply: Reply) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if reply.thinking:
            blocks.append({"type": "thinking", "thinking": reply.thinking, "signature": "sig-fake"})
        if reply.text:
            blocks.append({"type": "text", "text": reply.text})
        blocks += [{"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
                   for i, (name, args) in enumerate(reply.tool_calls)]
        return blocks

    def _message(self, model: str, reply: Reply) -> dict[str, Any]:
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": self._content(reply),
                "stop_reason": "tool_use" if reply.tool_calls else STOP[reply.stop], "stop_sequence": None,
                "usage": {**_input_usage(reply), "output_tokens": reply.output_tokens}}

    def _frames(self, model: str, behaviour: Behaviour) -> list[bytes]:
        reply = behaviour if isinstance(behaviour, Reply) else behaviour.reply  # type: ignore[union-attr]
        start = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
                 "stop_reason": None, "stop_sequence": None,
                 "usage": {**_input_usage(reply), "output_tokens": 1}}
        frames = [event("message_start", {"type": "message_start", "message": start}),
                  event("ping", {"type": "ping"})]
        index = 0

        def block(content_block: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
            nonlocal index
            frames.append(event("content_block_start", {"type": "content_block_start", "index": index,
                                                        "content_block": content_block}))
            frames.extend(event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                        "delta": delta}) for delta in deltas)
            frames.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
            index += 1

        if reply.thinking:
            block({"type": "thinking", "thinking": "", "signature": ""},
                  [{"type": "thinking_delta", "thinking": w} for w in words(reply.thinking)]
                  + [{"type": "signature_delta", "signature": "sig-fake"}])
        if reply.text:
            block({"type": "text", "text": ""}, [{"type": "text_delta", "text": w} for w in words(reply.text)])
        for i, (name, args) in enumerate(reply.tool_calls):
            block({"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {}},
                  [{"type": "input_json_delta", "partial_json": piece} for piece in thirds(json.dumps(args))])
        frames.append(event("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use" if reply.tool_calls else STOP[reply.stop], "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens}}))
        frames.append(event("message_stop", {"type": "message_stop"}))
        return frames

    def _error_frame(self, kind: str) -> bytes:
        _, payload = self._error_body(Fail(kind))
        return event("error", payload)

    async def _error(self, send: Send, fail: Fail) -> None:
        status, payload = self._error_body(fail)
        headers = {"retry-after": str(fail.retry_after)} if fail.retry_after is not None else {}
        await respond(send, status, payload, headers)

    def _error_body(self, fail: Fail) -> tuple[int, dict[str, Any]]:
        status, kind, message = {
            "rate_limit": (429, "rate_limit_error", "Number of request tokens has exceeded your rate limit."),
            "overloaded": (529, "overloaded_error", "Overloaded"),
            "server": (500, "api_error", "Internal server error"),
            "context_length": (400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum"),
            "content_policy": (400, "invalid_request_error", "Output blocked by content filtering policy"),
            "auth": (401, "authentication_error", "invalid x-api-key"),
            "invalid": (400, "invalid_request_error", "max_tokens: Field required"),
            "not_found": (404, "not_found_error", "model: claude-nope"),
        }[fail.kind]
        return status, {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}


def _input_usage(reply: Reply) -> dict[str, int]:
    """Anthropic's input counts: uncached input, and the prompt cache's reads and writes apart."""
    return {"input_tokens": reply.input_tokens, "cache_read_input_tokens": reply.cache_read_tokens,
            "cache_creation_input_tokens": reply.cache_creation_tokens}
