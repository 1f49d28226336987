"""Canonical answers -> Responses terms: the Response object, its output items, usage and in-band errors."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any, cast

from proxy.dialects.responses.parse import SIGNED, ResponsesRequest
from proxy.dialects.responses.tools import Origin
from proxy.errors import ErrorKind, ProxyError
from proxy.types import ChatResponse, Part, RouteInfo, StopReason, TextPart, ThinkingPart, ToolUsePart, Usage

# Why an answer stopped short, as `incomplete_details.reason`; any other stop completes the response.
INCOMPLETE = {StopReason.LENGTH: "max_output_tokens", StopReason.REFUSAL: "content_filter"}
# Responses' error codes are a closed list; a failure Legion reports maps to the nearest one.
FAILED_CODE = {ErrorKind.RATE_LIMITED: "rate_limit_exceeded"}


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def response_object(request: ResponsesRequest, *, id: str, created_at: int, model: str, status: str,
                    output: list[dict[str, Any]], usage: Usage | None = None, stop: StopReason | None = None,
                    error: ProxyError | None = None, route: RouteInfo | None = None) -> dict[str, Any]:
    """The Response object, with the request fields it repeats; `usage` and `route` once the answer is done."""
    reason = INCOMPLETE.get(stop) if stop is not None else None
    body: dict[str, Any] = {
        "id": id, "object": "response", "created_at": created_at, "status": status, "model": model,
        "output": output, "error": None, "incomplete_details": {"reason": reason} if reason else None,
        "instructions": None, "metadata": {}, "temperature": None, "top_p": None, "text": {"format": {"type": "text"}},
        **request.echo, "usage": usage_render(usage) if usage is not None else None,
    }
    if error is not None:
        body["error"] = {"code": FAILED_CODE.get(error.kind, "server_error"), "message": error.message}
    if route is not None:
        body["legion"] = route.as_metadata()
    return body


def status_of(stop: StopReason) -> str:
    return "incomplete" if stop in INCOMPLETE else "completed"


def whole_render(request: ResponsesRequest, response: ChatResponse, route: RouteInfo) -> dict[str, Any]:
    """A non-streamed answer: the finished Response object."""
    return response_object(request, id=new_id("resp"), created_at=int(time.time()), model=response.model,
                           status=status_of(response.stop_reason), output=items_render(request, response.content),
                           usage=response.usage, stop=response.stop_reason, route=route)


def items_render(request: ResponsesRequest, content: tuple[Part, ...]) -> list[dict[str, Any]]:
    """Output items in the answer's order: consecutive thinking is one reasoning item, consecutive text one message."""
    items: list[dict[str, Any]] = []
    for kind, group in itertools.groupby(content, key=type):
        parts = list(group)
        if kind is ThinkingPart:
            thinking = cast(list[ThinkingPart], parts)
            signature = next((p.signature for p in reversed(thinking) if p.signature), "")
            items.append(reasoning_item(new_id("rs"), "".join(p.text for p in thinking), signature))
        elif kind is TextPart and (text := "".join(p.text for p in cast(list[TextPart], parts))):
            items.append(message_item(new_id("msg"), text, "completed"))
        elif kind is ToolUsePart:
            items += [call_item(request, p.id, p.name, json.dumps(p.input)) for p in cast(list[ToolUsePart], parts)]
    return items


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, text: str | None, status: str) -> dict[str, Any]:
    """An assistant message; `text` None is the empty item a stream opens with."""
    return {"id": item_id, "type": "message", "role": "assistant", "status": status,
            "content": [] if text is None else [output_text(text)]}


def reasoning_item(item_id: str, text: str, signature: str) -> dict[str, Any]:
    """Thinking as a reasoning summary (what clients show); its signature, if any, rides in `encrypted_content`
    so that a client passing the item back (Codex does, with store false) sends the provider its proof."""
    item: dict[str, Any] = {"id": item_id, "type": "reasoning",
                            "summary": [{"type": "summary_text", "text": text}] if text else []}
    if signature:
        item["encrypted_content"] = SIGNED + signature
    return item


def call_item(request: ResponsesRequest, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A finished function_call item, or a custom_tool_call when the tool was declared custom (its `input`
    unwrapped from the one argument the model was given)."""
    origin = request.tools.origins.get(name, Origin(name))
    if origin.custom:
        item: dict[str, Any] = {"id": new_id("ctc"), "type": "custom_tool_call", "call_id": call_id,
                                "name": origin.name, "input": custom_input(arguments)}
    else:
        item = {"id": new_id("fc"), "type": "function_call", "call_id": call_id, "name": origin.name,
                "arguments": arguments, "status": "completed"}
    if origin.namespace:
        item["namespace"] = origin.namespace
    return item


def custom_input(arguments: str) -> str:
    """A custom tool's input from the one-string-argument call the model made (its raw arguments if malformed)."""
    try:
        decoded = json.loads(arguments)
    except ValueError:
        return arguments
    return decoded["input"] if isinstance(decoded, dict) and isinstance(decoded.get("input"), str) else arguments


def usage_render(usage: Usage) -> dict[str, Any]:
    """Responses counts cached prompt tokens inside `input_tokens`, as canonical usage does, and names them apart."""
    return {"input_tokens": usage.input_tokens,
            "input_tokens_details": {"cached_tokens": usage.cache_read_tokens,
                                     "cache_write_tokens": usage.cache_creation_tokens},
            "output_tokens": usage.output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage.input_tokens + usage.output_tokens}
