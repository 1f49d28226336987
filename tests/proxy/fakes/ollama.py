"""A fake Ollama server: `/api/chat` as NDJSON (one JSON object per line, `done` last) and `/api/embed`.

Follows Ollama's API docs: message deltas with `content` and `thinking`, whole tool calls with object
arguments, a final line with `done_reason`, `prompt_eval_count` and `eval_count`, and `{"error": "..."}` bodies.
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
    wait_gone,
    words,
)


def line(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode() + b"\n"


class FakeOllama(FakeProvider):
    async def handle(self, method: str, path: str, headers: dict[str, str], body: Any, receive: Receive,
                     send: Send) -> None:
        if path == "/api/embed":
            vectors = [[float(len(text)), 1.0] for text in body["input"]]
            await respond(send, 200, {"model": body["model"], "embeddings": vectors, "prompt_eval_count": 3})
        elif path == "/api/chat":
            await self._chat(send, receive, body)
        else:
            await respond(send, 404, {"error": "404 page not found"})

    async def _chat(self, send: Send, receive: Receive, body: dict[str, Any]) -> None:
        behaviour = self.next(body["model"])
        if isinstance(behaviour, Fail):
            status, payload = self._error_body(behaviour, body["model"])
            retry = {"retry-after": str(behaviour.retry_after)} if behaviour.retry_after is not None else {}
            await respond(send, status, payload, retry)
            return
        reply = behaviour if isinstance(behaviour, Reply) else behaviour.reply
        if body.get("stream") is False:
            if isinstance(behaviour, Die):
                await drop(send)
            if isinstance(behaviour, Stall):
                await wait_gone(receive, behaviour.seconds)
            message: dict[str, Any] = {"role": "assistant", "content": reply.text}
            if reply.thinking:
                message["thinking"] = reply.thinking
            if reply.tool_calls:
                message["tool_calls"] = [{"function": {"name": n, "arguments": a}} for n, a in reply.tool_calls]
            await respond(send, 200, {"model": body["model"], "message": message, "done": True,
                                      **self._final(reply)})
            return
        await stream_start(send, b"application/x-ndjson")
        await play(self._frames(body["model"], behaviour), behaviour, send, receive,
                   lambda kind: line({"error": "an error was encountered while running the model"}))

    def _final(self, reply: Reply) -> dict[str, Any]:
        return {"done_reason": "length" if reply.stop == "length" else "stop",
                "prompt_eval_count": reply.input_tokens, "eval_count": reply.output_tokens}

    def _frames(self, model: str, behaviour: Behaviour) -> list[bytes]:
        reply = behaviour if isinstance(behaviour, Reply) else behaviour.reply  # type: ignore[union-attr]

        def message(**fields: Any) -> bytes:
            return line({"model": model, "created_at": "2026-01-01T00:00:00Z",
                         "message": {"role": "assistant", "content": "", **fields}, "done": False})

        frames = [message(thinking=w) for w in words(reply.thinking)]
        frames += [message(content=w) for w in words(reply.text)]
        if reply.tool_calls:
            frames.append(message(tool_calls=[{"function": {"name": n, "arguments": a}} for n, a in reply.tool_calls]))
        frames.append(line({"model": model, "message": {"role": "assistant", "content": ""}, "done": True,
                            **self._final(reply)}))
        return frames

    def _error_body(self, fail: Fail, model: str) -> tuple[int, dict[str, Any]]:
        return {
            "rate_limit": (429, {"error": "too many requests"}),
            "overloaded": (503, {"error": "server busy, please try again.  maximum pending requests exceeded"}),
            "server": (500, {"error": "llama runner process has terminated: exit status 2"}),
            "context_length": (400, {"error": "the input length exceeds the context length"}),
            "content_policy": (400, {"error": "content policy violation"}),
            "auth": (401, {"error": "unauthorized"}),
            "invalid": (400, {"error": "invalid options"}),
            "not_found": (404, {"error": f"model \"{model}\" not found, try pulling it first"}),
        }[fail.kind]
