"""A fake OpenAI chat completions server, with vLLM and llama.cpp flavours of the error bodies.

Wire formats follow the public API references: chunked `chat.completion.chunk` SSE with `[DONE]`, tool-call
deltas (id and name first, then argument fragments), `stream_options.include_usage`, and each server's own
error JSON (OpenAI `{"error": {...}}`, vLLM `{"object": "error", ...}`, llama-server `{"error": {"type": ...}}`).
"""

from __future__ import annotations

import base64
import json
import struct
import time
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

FINISH = {"end": "stop", "length": "length"}


class FakeOpenAI(FakeProvider):
    def __init__(self, api_key: str | None = None, flavour: str = "openai") -> None:
        super().__init__(api_key)
        self.flavour = flavour  # openai | vllm | llamacpp

    async def handle(self, method: str, path: str, headers: dict[str, str], body: Any, receive: Receive,
                     send: Send) -> None:
        if self.api_key and headers.get("authorization") != f"Bearer {self.api_key}":
            await self._error(send, Fail("auth"))
            return
        if path == "/v1/models":
            await respond(send, 200, {"object": "list", "data": []})
        elif path == "/v1/embeddings":
            await self._embeddings(send, body)
        elif path == "/v1/chat/completions":
            await self._chat(send, receive, body)
        else:
            await respond(send, 404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    async def _chat(self, send: Send, receive: Receive, body: dict[str, Any]) -> None:
        behaviour = self.next(body["model"])
        if isinstance(behaviour, Fail):
            await self._error(send, behaviour)
            return
        if not body.get("stream"):
            if isinstance(behaviour, Die):
                await drop(send)
            if isinstance(behaviour, Stall):
                await wait_gone(receive, behaviour.seconds)
            reply = behaviour if isinstance(behaviour, Reply) else behaviour.reply
            await respond(send, 200, self._completion(body["model"], reply))
            return
        await stream_start(send, b"text/event-stream")
        frames = self._frames(body, behaviour)
        await play(frames, behaviour, send, receive, self._error_frame)

    def _completion(self, model: str, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.tool_calls:
            message["tool_calls"] = [{"id": f"call_{i}", "type": "function",
                                      "function": {"name": name, "arguments": json.dumps(args)}}
                                     for i, (name, args) in enumerate(reply.tool_calls)]
        if reply.thinking and self.flavour != "openai":
            message["reasoning_content"] = reply.thinking
        finish = "tool_calls" if reply.tool_calls else FINISH[reply.stop]
        answer = {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                  "choices": [{"index": 0, "message": message, "finish_reason": finish}]}
        return {**answer, "usage": _usage(reply)} if reply.reports_usage else answer

    def _frames(self, body: dict[str, Any], behaviour: Behaviour) -> list[bytes]:
        reply = behaviour if isinstance(behaviour, Reply) else behaviour.reply  # type: ignore[union-attr]
        model = body["model"]

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            payload = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(payload)}\n\n".encode()

        frames = [chunk({"role": "assistant", "content": ""})]
        if reply.thinking and self.flavour != "openai":
            frames += [chunk({"reasoning_content": piece}) for piece in words(reply.thinking)]
        frames += [chunk({"content": piece}) for piece in words(reply.text)]
        for index, (name, args) in enumerate(reply.tool_calls):
            frames.append(chunk({"tool_calls": [{"index": index, "id": f"call_{index}", "type": "function",
                                                 "function": {"name": name, "arguments": ""}}]}))
            frames += [chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                       for piece in thirds(json.dumps(args))]
        frames.append(chunk({}, "tool_calls" if reply.tool_calls else FINISH[reply.stop]))
        if (body.get("stream_options") or {}).get("include_usage"):
            frames.append(f"data: {json.dumps({'id': 'x', 'choices': [], 'usage': _usage(reply)})}\n\n".encode())
        frames.append(b"data: [DONE]\n\n")
        return frames

    def _error_frame(self, kind: str) -> bytes:
        status, payload, _ = self._error_body(Fail(kind))
        return f"data: {json.dumps(payload)}\n\n".encode()

    async def _error(self, send: Send, fail: Fail) -> None:
        status, payload, headers = self._error_body(fail)
        await respond(send, status, payload, headers)

    def _error_body(self, fail: Fail) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers = {"retry-after": str(fail.retry_after)} if fail.retry_after is not None else {}
        status, kind, code, message = {
            "rate_limit": (429, "requests", "rate_limit_exceeded", "Rate limit reached for requests"),
            "overloaded": (503, "server_error", None, "The server is overloaded or not ready yet."),
            "server": (500, "server_error", None, "The server had an error while processing your request."),
            "context_length": (400, "invalid_request_error", "context_length_exceeded",
                               "This model's maximum context length is 8192 tokens. However, your messages "
                               "resulted in 9000 tokens. Please reduce the length of the messages."),
            "content_policy": (400, "invalid_request_error", "content_policy_violation",
                               "Your request was rejected as a result of our safety system."),
            "auth": (401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
            "invalid": (400, "invalid_request_error", None, "Invalid value for 'temperature'."),
            "not_found": (404, "invalid_request_error", "model_not_found", "The model does not exist."),
        }[fail.kind]
        message = fail.message or message
        if self.flavour == "vllm":
            return status, {"object": "error", "message": message, "type": "BadRequestError" if status == 400
                            else "InternalServerError", "param": None, "code": status}, headers
        if self.flavour == "llamacpp":
            if fail.kind == "context_length":
                return 400, {"error": {"code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 9000,
                                       "n_ctx": 8192, "message": "the request exceeds the available context size, "
                                       "try increasing it"}}, headers
            if fail.kind == "overloaded":
                return 503, {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}, headers
            return status, {"error": {"code": status, "message": message, "type": kind}}, headers
        return status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers

    async def _embeddings(self, send: Send, body: dict[str, Any]) -> None:
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        rows = []
        for index, text in enumerate(inputs):
            vector = [float(len(text)), float(index), 0.5]
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(struct.pack("<3f", *vector)).decode()
            else:
                encoded = vector
            rows.append({"object": "embedding", "index": index, "embedding": encoded})
        await respond(send, 200, {"object": "list", "data": rows, "model": body["model"],
                                  "usage": {"prompt_tokens": 5 * len(inputs), "total_tokens": 5 * len(inputs)}})


def _usage(reply: Reply) -> dict[str, Any]:
    """OpenAI's usage: cached prompt tokens are part of prompt_tokens, named in the details."""
    prompt = reply.input_tokens + reply.cache_read_tokens
    return {"prompt_tokens": prompt, "completion_tokens": reply.output_tokens,
            "total_tokens": prompt + reply.output_tokens,
            "prompt_tokens_details": {"cached_tokens": reply.cache_read_tokens}}
