"""Client events -> the Responses SSE event sequence: the response's lifecycle, each output item opened, filled
and closed, every event numbered."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from proxy.dialects.responses.parse import ResponsesRequest
from proxy.dialects.responses.render import (
    call_item,
    message_item,
    new_id,
    output_text,
    reasoning_item,
    response_object,
    status_of,
)
from proxy.errors import ProxyError
from proxy.streaming.sse import KEEPALIVE, sse_event
from proxy.types import ClientEvent, Finished, KeepAlive, Started, TextDelta, ThinkingDelta, ToolCall


@dataclass(slots=True)
class _Open:
    """The message or reasoning item deltas currently go to."""

    kind: Literal["message", "reasoning"]
    id: str
    index: int
    text: str = ""
    signature: str = ""


class ResponsesStreamRenderer:
    """`response.created` and `response.in_progress`, the items, then `response.completed` (or `.incomplete`, or
    `.failed`); the SDKs insist on that order, so every ending opens the response first if nothing had."""

    def __init__(self, request: ResponsesRequest) -> None:
        self.request = request
        self.id = new_id("resp")
        self.created_at = int(time.time())
        self.model = request.chat.model
        self.sequence = 0
        self.opened = False
        self.output: list[dict[str, Any]] = []
        self.open: _Open | None = None

    def render(self, event: ClientEvent) -> bytes:
        if isinstance(event, TextDelta):
            return self._text(event.text)
        if isinstance(event, ThinkingDelta):
            return self._thinking(event)
        if isinstance(event, ToolCall):
            return self._call(event)
        if isinstance(event, Started):
            self.model = event.model
            return self._created()
        if isinstance(event, KeepAlive):
            return KEEPALIVE
        return self._finish(event)

    def error(self, error: ProxyError) -> bytes:
        """A failure after the stream began: `response.failed` with what was finished and the error."""
        out = self._created() + self._close()
        return out + self._event("response.failed", response=self._response("failed", error=error))

    def _event(self, kind: str, **payload: Any) -> bytes:
        data = {"type": kind, "sequence_number": self.sequence, **payload}
        self.sequence += 1
        return sse_event(kind, data)

    def _response(self, status: str, **done: Any) -> dict[str, Any]:
        return response_object(self.request, id=self.id, created_at=self.created_at, model=self.model,
                               status=status, output=list(self.output), **done)

    def _created(self) -> bytes:
        if self.opened:
            return b""
        self.opened = True
        return (self._event("response.created", response=self._response("in_progress"))
                + self._event("response.in_progress", response=self._response("in_progress")))

    def _start(self, kind: Literal["message", "reasoning"]) -> tuple[_Open, bytes]:
        """The open item of `kind`, opening it (and closing any other) when deltas switch kind."""
        if self.open is not None and self.open.kind == kind:
            return self.open, b""
        out = self._created() + self._close()
        item = self.open = _Open(kind, new_id("msg" if kind == "message" else "rs"), len(self.output))
        where = {"item_id": item.id, "output_index": item.index}
        if kind == "message":
            out += self._event("response.output_item.added", output_index=item.index,
                               item=message_item(item.id, None, "in_progress"))
            out += self._event("response.content_part.added", **where, content_index=0, part=output_text(""))
        else:
            out += self._event("response.output_item.added", output_index=item.index,
                               item=reasoning_item(item.id, "", ""))
            out += self._event("response.reasoning_summary_part.added", **where, summary_index=0,
                               part={"type": "summary_text", "text": ""})
        return item, out

    def _text(self, text: str) -> bytes:
        item, out = self._start("message")
        item.text += text
        return out + self._event("response.output_text.delta", item_id=item.id, output_index=item.index,
                                 content_index=0, delta=text, logprobs=[])

    def _thinking(self, event: ThinkingDelta) -> bytes:
        item, out = self._start("reasoning")
        item.signature += event.signature
        if event.text:
            item.text += event.text
            out += self._event("response.reasoning_summary_text.delta", item_id=item.id, output_index=item.index,
                               summary_index=0, delta=event.text)
        return out

    def _close(self) -> bytes:
        item, self.open = self.open, None
        if item is None:
            return b""
        where = {"item_id": item.id, "output_index": item.index}
        if item.kind == "message":
            done = message_item(item.id, item.text, "completed")
            out = self._event("response.output_text.done", **where, content_index=0, text=item.text, logprobs=[])
            out += self._event("response.content_part.done", **where, content_index=0, part=output_text(item.text))
        else:
            done = reasoning_item(item.id, item.text, item.signature)
            out = self._event("response.reasoning_summary_text.done", **where, summary_index=0, text=item.text)
            out += self._event("response.reasoning_summary_part.done", **where, summary_index=0,
                               part={"type": "summary_text", "text": item.text})
        self.output.append(done)
        return out + self._event("response.output_item.done", output_index=item.index, item=done)

    def _call(self, call: ToolCall) -> bytes:
        """A whole call as its item's events: added empty, its arguments (or custom input) in one delta, done."""
        out = self._created() + self._close()
        item, index = call_item(self.request, call.id, call.name, call.arguments), len(self.output)
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "custom_tool_call":
            out += self._event("response.output_item.added", output_index=index, item={**item, "input": ""})
            out += self._event("response.custom_tool_call_input.delta", **where, delta=item["input"])
            out += self._event("response.custom_tool_call_input.done", **where, input=item["input"])
        else:
            out += self._event("response.output_item.added", output_index=index,
                               item={**item, "arguments": "", "status": "in_progress"})
            out += self._event("response.function_call_arguments.delta", **where, delta=item["arguments"])
            out += self._event("response.function_call_arguments.done", **where, arguments=item["arguments"])
        self.output.append(item)
        return out + self._event("response.output_item.done", output_index=index, item=item)

    def _finish(self, event: Finished) -> bytes:
        out = self._created() + self._close()
        status = status_of(event.stop_reason)
        return out + self._event(f"response.{status}", response=self._response(
            status, usage=event.usage, stop=event.stop_reason, route=event.route))
