"""Anthropic's messages API over httpx: requests, responses, the event stream and count_tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from proxy.config import ModelSpec
from proxy.errors import ErrorKind, ProxyError
from proxy.providers.base import HttpProvider, json_loads
from proxy.streaming.sse import SSEMessage, lines_iter, sse_iter
from proxy.types import (
    ChatRequest,
    ChatResponse,
    ImagePart,
    Message,
    Part,
    ProviderEvent,
    StopReason,
    StreamEnd,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    ToolResultPart,
    ToolUsePart,
    Usage,
)

VERSION = "2023-06-01"
STOP = {"end_turn": StopReason.END, "max_tokens": StopReason.LENGTH, "stop_sequence": StopReason.STOP_SEQUENCE,
        "tool_use": StopReason.TOOL_USE, "refusal": StopReason.REFUSAL, "pause_turn": StopReason.END}
MIN_THINKING_BUDGET = 1024  # the API rejects smaller budgets
JSON_INSTRUCTION = "Answer with a single JSON object and nothing else."


class AnthropicProvider(HttpProvider):
    stream_path = "/v1/messages"

    def auth_headers(self) -> dict[str, str]:
        headers = {"anthropic-version": VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def render(self, request: ChatRequest, model: ModelSpec, *, stream: bool) -> dict[str, Any]:
        max_tokens = min(request.max_tokens or model.max_output, model.max_output)
        payload: dict[str, Any] = {"model": model.upstream, "messages": messages_render(request.messages),
                                   "max_tokens": max_tokens}
        system = request.system
        if request.response_format is not None:
            # No native JSON mode on this API version: the instruction is the portable equivalent.
            schema = request.response_format.schema
            system = "\n\n".join(s for s in (system, JSON_INSTRUCTION, f"Schema: {schema}" if schema else "") if s)
        if system:
            payload["system"] = system
        if stream:
            payload["stream"] = True
        for key in ("temperature", "top_p"):
            if (value := getattr(request, key)) is not None:
                payload[key] = min(value, 1.0) if key == "temperature" else value
        if request.stop:
            payload["stop_sequences"] = list(request.stop)
        if request.tools:
            payload["tools"] = [{"name": t.name, "description": t.description, "input_schema": dict(t.input_schema)}
                                for t in request.tools]
            choice = request.tool_choice
            payload["tool_choice"] = {"type": choice.mode, "name": choice.name} if choice.mode == "tool" else {
                "type": choice.mode}
        budget = request.thinking_budget
        if budget and "thinking" in model.capabilities:
            budget = max(budget, MIN_THINKING_BUDGET)
            payload["thinking"] = {"type": "enabled", "budget_tokens": budget}
            payload["max_tokens"] = max(max_tokens, budget + 1)
            payload.pop("temperature", None)  # thinking requires the default temperature
        if request.user:
            payload["metadata"] = {"user_id": request.user}
        return payload

    async def complete(self, request: ChatRequest, model: ModelSpec) -> ChatResponse:
        data = await self.post_json("/v1/messages", self.render(request, model, stream=False))
        with self.boundary():
            return response_parse(data, model)

    def stream_parse(self, body: AsyncIterator[bytes]) -> AsyncIterator[ProviderEvent]:
        return events_parse(sse_iter(lines_iter(body)), self.spec.name)

    async def count_tokens(self, request: ChatRequest, model: ModelSpec) -> int | None:
        payload = self.render(request, model, stream=False)
        for key in ("max_tokens", "temperature", "top_p", "stop_sequences", "metadata"):
            payload.pop(key, None)
        data = await self.post_json("/v1/messages/count_tokens", payload)
        with self.boundary():
            return int(data["input_tokens"])

    def classify(self, status: int, message: str, code: str) -> ErrorKind:
        if "prompt is too long" in message.lower():
            return ErrorKind.CONTEXT_LENGTH
        return super().classify(status, message, code)


def messages_render(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Canonical turns as Anthropic content blocks; consecutive turns of one role are merged, as the API wants."""
    out: list[dict[str, Any]] = []
    for message in messages:
        blocks = [block for part in message.content if (block := _block(part)) is not None]
        if not blocks:
            continue
        if out and out[-1]["role"] == message.role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": message.role, "content": blocks})
    return out


def _block(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text} if part.text else None
    if isinstance(part, ImagePart):
        source = {"type": "url", "url": part.url} if part.url else {
            "type": "base64", "media_type": part.media_type, "data": part.data}
        return {"type": "image", "source": source}
    if isinstance(part, ToolUsePart):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": dict(part.input)}
    if isinstance(part, ToolResultPart):
        content = [b for p in part.content if (b := _block(p)) is not None]
        return {"type": "tool_result", "tool_use_id": part.tool_use_id, "content": content, "is_error": part.is_error}
    # Thinking only round-trips with the signature Anthropic issued; thinking from other providers is dropped.
    if part.signature:
        return {"type": "thinking", "thinking": part.text, "signature": part.signature}
    return None


def _usage(raw: dict[str, Any]) -> int:
    return int(raw.get("input_tokens") or 0) + int(raw.get("cache_read_input_tokens") or 0) + int(
        raw.get("cache_creation_input_tokens") or 0)


def response_parse(data: dict[str, Any], model: ModelSpec) -> ChatResponse:
    content: list[Part] = []
    for block in data["content"]:
        if block["type"] == "text":
            content.append(TextPart(block["text"]))
        elif block["type"] == "tool_use":
            content.append(ToolUsePart(id=block["id"], name=block["name"], input=block["input"]))
        elif block["type"] == "thinking":
            content.append(ThinkingPart(block["thinking"], block.get("signature") or ""))
    return ChatResponse(
        id=uuid.uuid4().hex, model=model.id, content=tuple(content),
        stop_reason=STOP.get(data.get("stop_reason") or "end_turn", StopReason.END),
        stop_sequence=data.get("stop_sequence"),
        usage=Usage(_usage(data["usage"]), int(data["usage"].get("output_tokens") or 0)),
    )


async def events_parse(messages: AsyncIterator[SSEMessage], provider: str) -> AsyncIterator[ProviderEvent]:
    """Anthropic's event sequence into canonical events; complete only at `message_stop`."""
    input_tokens, output_tokens = 0, 0
    stop, stop_sequence = StopReason.END, None
    async for message in messages:
        event = json_loads(message.data, provider)
        kind = event.get("type") or message.event
        if kind == "content_block_delta":
            delta = event["delta"]
            if delta["type"] == "text_delta":
                yield TextDelta(delta["text"])
            elif delta["type"] == "input_json_delta":
                yield ToolCallDelta(index=event["index"], arguments=delta["partial_json"])
            elif delta["type"] == "thinking_delta":
                yield ThinkingDelta(delta["thinking"])
            elif delta["type"] == "signature_delta":
                yield ThinkingDelta(signature=delta["signature"])
        elif kind == "content_block_start":
            block = event["content_block"]
            if block["type"] == "tool_use":
                yield ToolCallDelta(index=event["index"], id=block["id"], name=block["name"])
            elif block["type"] == "text" and block.get("text"):
                yield TextDelta(block["text"])
        elif kind == "message_start":
            usage = event["message"].get("usage") or {}
            input_tokens, output_tokens = _usage(usage), int(usage.get("output_tokens") or 0)
        elif kind == "message_delta":
            stop = STOP.get(event["delta"].get("stop_reason") or "end_turn", StopReason.END)
            stop_sequence = event["delta"].get("stop_sequence")
            usage = event.get("usage") or {}
            output_tokens = int(usage.get("output_tokens") or output_tokens)
            input_tokens = _usage(usage) or input_tokens
        elif kind == "message_stop":
            yield StreamEnd(stop, Usage(input_tokens, output_tokens), stop_sequence)
            return
        elif kind == "error":
            error = event.get("error") or {}
            overloaded = error.get("type") == "overloaded_error"
            raise ProxyError(ErrorKind.OVERLOADED if overloaded else ErrorKind.SERVER,
                             f"{provider}: {error.get('message') or error.get('type')}", provider=provider)
    raise ProxyError(ErrorKind.STREAM_BROKEN, f"{provider}: stream ended before message_stop", provider=provider)
