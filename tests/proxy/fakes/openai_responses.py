"""A fake OpenAI Responses server: `POST /v1/responses` as the typed SSE event stream, whole or streamed.

Follows the public Responses API reference: `response.created`, `response.in_progress`, then per output item
`response.output_item.added`, its deltas (`response.output_text.delta` inside a content part,
`response.function_call_arguments.delta`, reasoning summary deltas), `response.output_item.done`, and last
`response.completed` (or `response.incomplete` when cut at max_output_tokens) with usage; every event carries
its `sequence_number`. Errors are OpenAI's `{"error": {...}}` bodies; an in-band failure is `response.failed`.
A scripted call of a tool the request declares `custom` (freeform text input, as Codex's `exec`) comes back
as a `custom_tool_call` whose input is the call's `{"input": ...}` argument.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.proxy.fakes.openai import FakeOpenAI
from tests.proxy.fakes.script import (
    Fail,
    Receive,
    Reply,
    Send,
    Stall,
    play,
    respond,
    stream_start,
    thirds,
    wait_gone,
    words,
)


class FakeOpenAIResponses(FakeOpenAI):
    """OpenAI's Responses endpoint; `/v1/models` and the error bodies are the chat completions fake's."""

    async def handle(self, method: str, path: str, headers: dict[str, str], body: Any, receive: Receive,
                     send: Send) -> None:
        if self.api_key and headers.get("authorization") != f"Bearer {self.api_key}":
            await self._error(send, Fail("auth"))
        elif path == "/v1/responses" and method == "POST":
            await self._responses(send, receive, body)
        else:
            await super().handle(method, path, headers, body, receive, send)

    async def _responses(self, send: Send, receive: Receive, body: dict[str, Any]) -> None:
        behaviour = self.next(body["model"])
        if isinstance(behaviour, Fail):
            await self._error(send, behaviour)
            return
        reply = behaviour if isinstance(behaviour, Reply) else behaviour.reply
        if not body.get("stream"):
            if isinstance(behaviour, Stall):
                await wait_gone(receive, behaviour.seconds)
            await respond(send, 200, ResponseEvents(body, reply).final("completed"))
            return
        await stream_start(send, b"text/event-stream")
        events = ResponseEvents(body, reply)
        await play(events.frames(), behaviour, send, receive, events.failed)


class ResponseEvents:
    """The events of one response, numbered in order; items are built as they will appear in `output`."""

    def __init__(self, request: dict[str, Any], reply: Reply) -> None:
        self.request = request
        self.reply = reply
        self.sequence = 0
        self.created_at = int(time.time())
        self.items: list[dict[str, Any]] = []
        if reply.thinking:
            self.items.append({"id": "rs_fake", "type": "reasoning", "summary": [
                {"type": "summary_text", "text": reply.thinking}]})
        if reply.text:
            self.items.append({"id": "msg_fake", "type": "message", "status": "completed", "role": "assistant",
                               "content": [{"type": "output_text", "text": reply.text, "annotations": []}]})
        custom = custom_tool_names(request)
        self.items += [{"id": f"ctc_{i}", "type": "custom_tool_call", "status": "completed", "call_id": f"call_{i}",
                        "name": name, "input": args["input"]} if name in custom else
                       {"id": f"fc_{i}", "type": "function_call", "status": "completed", "call_id": f"call_{i}",
                        "name": name, "arguments": json.dumps(args)}
                       for i, (name, args) in enumerate(reply.tool_calls)]

    def final(self, status: str, error: dict[str, Any] | None = None) -> dict[str, Any]:
        """The response object as `response.completed` (or a non-streamed answer) carries it."""
        done = status != "in_progress"
        usage = {"input_tokens": self.reply.input_tokens, "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens": self.reply.output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": self.reply.input_tokens + self.reply.output_tokens}
        return {"id": "resp_fake", "object": "response", "created_at": self.created_at, "status": status,
                "model": self.request["model"], "output": self.items if done and not error else [],
                "error": error, "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete"
                else None, "instructions": self.request.get("instructions"), "parallel_tool_calls": True,
                "tool_choice": self.request.get("tool_choice", "auto"), "tools": self.request.get("tools", []),
                "store": self.request.get("store", True), "usage": usage if done and not error else None}

    def event(self, kind: str, **payload: Any) -> bytes:
        data = {"type": kind, "sequence_number": self.sequence, **payload}
        self.sequence += 1
        return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()

    def frames(self) -> list[bytes]:
        frames = [self.event("response.created", response=self.final("in_progress")),
                  self.event("response.in_progress", response=self.final("in_progress"))]
        for index, item in enumerate(self.items):
            frames += self._item(index, item)
        status = "incomplete" if self.reply.stop == "length" else "completed"
        frames.append(self.event(f"response.{status}", response=self.final(status)))
        return frames

    def _item(self, index: int, item: dict[str, Any]) -> list[bytes]:
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            text = item["content"][0]["text"]
            return [self.event("response.output_item.added", output_index=index,
                               item={**item, "status": "in_progress", "content": []}),
                    self.event("response.content_part.added", **where, content_index=0,
                               part={"type": "output_text", "text": "", "annotations": []}),
                    *[self.event("response.output_text.delta", **where, content_index=0, delta=piece, logprobs=[])
                      for piece in words(text)],
                    self.event("response.output_text.done", **where, content_index=0, text=text, logprobs=[]),
                    self.event("response.content_part.done", **where, content_index=0, part=item["content"][0]),
                    self.event("response.output_item.done", output_index=index, item=item)]
        if item["type"] == "function_call":
            return [self.event("response.output_item.added", output_index=index,
                               item={**item, "status": "in_progress", "arguments": ""}),
                    *[self.event("response.function_call_arguments.delta", **where, delta=piece)
                      for piece in thirds(item["arguments"])],
                    self.event("response.function_call_arguments.done", **where, arguments=item["arguments"]),
                    self.event("response.output_item.done", output_index=index, item=item)]
        if item["type"] == "custom_tool_call":
            return [self.event("response.output_item.added", output_index=index, item={**item, "input": ""}),
                    *[self.event("response.custom_tool_call_input.delta", **where, delta=piece)
                      for piece in thirds(item["input"])],
                    self.event("response.custom_tool_call_input.done", **where, input=item["input"]),
                    self.event("response.output_item.done", output_index=index, item=item)]
        summary = item["summary"][0]["text"]
        return [self.event("response.output_item.added", output_index=index, item={**item, "summary": []}),
                self.event("response.reasoning_summary_part.added", **where, summary_index=0,
                           part={"type": "summary_text", "text": ""}),
                *[self.event("response.reasoning_summary_text.delta", **where, summary_index=0, delta=piece)
                  for piece in words(summary)],
                self.event("response.reasoning_summary_text.done", **where, summary_index=0, text=summary),
                self.event("response.reasoning_summary_part.done", **where, summary_index=0,
                           part=item["summary"][0]),
                self.event("response.output_item.done", output_index=index, item=item)]

    def failed(self, kind: str) -> bytes:
        """An in-band failure after some events: `response.failed` with the error OpenAI would give."""
        code = {"rate_limit": "rate_limit_exceeded", "context_length": "context_length_exceeded"}.get(kind,
                                                                                                      "server_error")
        error = {"code": code, "message": "The server had an error while processing your request."}
        return self.event("response.failed", response=self.final("failed", error))


def declared_tools(request: dict[str, Any]) -> list[dict[str, Any]]:
    """Every tool a request declares, namespaces flattened: top-level `tools` and `additional_tools` input items."""
    found: list[dict[str, Any]] = []
    pending = list(request.get("tools") or [])
    pending += [tool for item in request.get("input") or [] if isinstance(item, dict)
                and item.get("type") == "additional_tools" for tool in item.get("tools", [])]
    while pending:
        tool = pending.pop(0)
        if tool.get("type") == "namespace":
            pending += tool.get("tools", [])
        else:
            found.append(tool)
    return found


def custom_tool_names(request: dict[str, Any]) -> set[str]:
    return {tool["name"] for tool in declared_tools(request) if tool.get("type") == "custom"}
