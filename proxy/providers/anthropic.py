"""Anthropic's messages API over httpx: requests, responses, the event stream and count_tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from proxy.config import ModelSpec
from proxy.errors import ErrorKind, ProxyError
from proxy.providers.base import HttpProvider, json_loads
from proxy.providers.system_messages import system_folded
from proxy.streaming.sse import SSEMessage, lines_iter, sse_iter
from proxy.types import (
    Cache,
    ChatRequest,
    ChatResponse,
    ImagePart,
    Message,
    Native,
    Part,
    ProviderEvent,
    StopReason,
    StreamEnd,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    Tool,
    ToolCallDelta,
    ToolResultPart,
    ToolUsePart,
    Usage,
)

VERSION = "2023-06-01"
STOP = {"end_turn": StopReason.END, "max_tokens": StopReason.LENGTH, "stop_sequence": StopReason.STOP_SEQUENCE,
        "tool_use": StopReason.TOOL_USE, "refusal": StopReason.REFUSAL, "pause_turn": StopReason.END}
# What count_tokens takes of a messages request; it refuses the rest (max_tokens, sampling, metadata).
COUNT_FIELDS = ("model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers", "context_management")
MIN_THINKING_BUDGET = 1024  # the API rejects smaller budgets
JSON_INSTRUCTION = "Answer with a single JSON object and nothing else."


class AnthropicProvider(HttpProvider):
    stream_path = "/v1/messages"

    def auth_headers(self) -> dict[str, str]:
        headers = {"anthropic-version": VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def request_headers(self, request: ChatRequest) -> dict[str, str]:
        native = request.native_for("anthropic")
        return {"anthropic-beta": ",".join(native.betas)} if native is not None and native.betas else {}

    def render(self, request: ChatRequest, model: ModelSpec, *, stream: bool) -> dict[str, Any]:
        """The messages body, its keys in the provider's cache order (tools, system, messages) so that two turns
        of one conversation share their bytes up to the end of the earlier turn's messages."""
        max_tokens = min(request.max_tokens or model.max_output, model.max_output)
        native = request.native_for("anthropic")
        payload: dict[str, Any] = {"model": model.upstream}
        if request.tools:
            payload["tools"] = [_tool(tool, native) for tool in request.tools]
        system = list(request.system)
        if request.response_format is not None and not (native and "output_config" in native.fields):
            # Without the client's own output_config the portable equivalent of a JSON mode is an instruction.
            schema = request.response_format.schema
            system += [TextPart(JSON_INSTRUCTION), *([TextPart(f"Schema: {schema}")] if schema else [])]
        if system:
            # A plain prompt stays a string; blocks stay blocks, so cache breakpoints keep their place.
            plain = len(system) == 1 and system[0].cache is None
            payload["system"] = system[0].text if plain else [_text_block(block) for block in system]
        # An Anthropic client's `role: system` turns go as they came: it sent them for this API (Claude Code does,
        # with or without its per-turn betas). Another dialect's are folded, since an Anthropic-compatible upstream
        # (an older API version, a cloud reseller) may refuse them.
        messages = request.messages if native is not None else system_folded(request.messages)
        payload["messages"] = messages_render(messages, native=native is not None)
        payload["max_tokens"] = max_tokens
        if request.tools:
            choice = request.tool_choice
            payload["tool_choice"] = {"type": choice.mode, "name": choice.name} if choice.mode == "tool" else {
                "type": choice.mode}
        if stream:
            payload["stream"] = True
        for key in ("temperature", "top_p"):
            if (value := getattr(request, key)) is not None:
                payload[key] = min(value, 1.0) if key == "temperature" else value
        if request.stop:
            payload["stop_sequences"] = list(request.stop)
        budget = request.thinking_budget
        if budget and "thinking" in model.capabilities:
            budget = max(budget, MIN_THINKING_BUDGET)
            payload["thinking"] = {"type": "enabled", "budget_tokens": budget}
            payload["max_tokens"] = max(max_tokens, budget + 1)
            payload.pop("temperature", None)  # thinking requires the default temperature
        if request.user:
            payload["metadata"] = {"user_id": request.user}
        if native is not None:
            # The client's own Anthropic fields win over Legion's renderings of them (adaptive thinking, effort).
            payload.update(native.fields)
            if "thinking" in native.fields:
                payload.pop("temperature", None)
        return payload

    async def complete(self, request: ChatRequest, model: ModelSpec) -> ChatResponse:
        data = await self.post_json("/v1/messages", self.render(request, model, stream=False),
                                    self.request_headers(request))
        with self.boundary():
            return response_parse(data, model)

    def stream_parse(self, body: AsyncIterator[bytes]) -> AsyncIterator[ProviderEvent]:
        return events_parse(sse_iter(lines_iter(body)), self.spec.name)

    async def count_tokens(self, request: ChatRequest, model: ModelSpec) -> int | None:
        payload = self.render(request, model, stream=False)
        counted = {key: payload[key] for key in COUNT_FIELDS if key in payload}
        data = await self.post_json("/v1/messages/count_tokens", counted, self.request_headers(request))
        with self.boundary():
            return int(data["input_tokens"])

    def classify(self, status: int, message: str, code: str) -> ErrorKind:
        if "prompt is too long" in message.lower():
            return ErrorKind.CONTEXT_LENGTH
        return super().classify(status, message, code)


def _tool(tool: Tool, native: Native | None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name, "description": tool.description, "input_schema": dict(tool.input_schema)}
    if tool.native and native is not None:
        out.update(tool.native)
    return _cached(out, tool.cache)


def _cached(block: dict[str, Any], cache: Cache) -> dict[str, Any]:
    if cache is not None:
        block["cache_control"] = dict(cache)
    return block


def _text_block(part: TextPart) -> dict[str, Any]:
    return _cached({"type": "text", "text": part.text}, part.cache)


def messages_render(messages: tuple[Message, ...], *, native: bool = False) -> list[dict[str, Any]]:
    """Canonical turns as Anthropic content blocks; consecutive turns of one role are merged, as the API wants.

    `native` adds each turn's own Anthropic fields; a turn that has some is never merged into its neighbour.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        blocks = [block for part in message.content if (block := _block(part)) is not None]
        if not blocks:
            continue
        extra = dict(message.native) if native and message.native else {}
        if out and out[-1]["role"] == message.role and not extra and len(out[-1]) == 2:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": message.role, "content": blocks, **extra})
    return out


def _block(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return _text_block(part) if part.text else None
    if isinstance(part, ImagePart):
        source = {"type": "url", "url": part.url} if part.url else {
            "type": "base64", "media_type": part.media_type, "data": part.data}
        return _cached({"type": "image", "source": source}, part.cache)
    if isinstance(part, ToolUsePart):
        return _cached({"type": "tool_use", "id": part.id, "name": part.name, "input": dict(part.input)}, part.cache)
    if isinstance(part, ToolResultPart):
        content = [b for p in part.content if (b := _block(p)) is not None]
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": part.tool_use_id, "content": content}
        if part.is_error:  # the API's default is false; writing it anyway would change what the client sent
            block["is_error"] = True
        return _cached(block, part.cache)
    # Thinking only round-trips with the signature Anthropic issued; thinking from other providers is dropped.
    if part.signature:
        return {"type": "thinking", "thinking": part.text, "signature": part.signature}
    return None


def usage_parse(raw: dict[str, Any], output_tokens: int | None = None) -> Usage:
    """Anthropic's usage (input net of the cache) as canonical usage (input including it)."""
    read, written = int(raw.get("cache_read_input_tokens") or 0), int(raw.get("cache_creation_input_tokens") or 0)
    return Usage(int(raw.get("input_tokens") or 0) + read + written,
                 int(raw.get("output_tokens") or 0) if output_tokens is None else output_tokens,
                 cache_read_tokens=read, cache_creation_tokens=written)


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
        usage=usage_parse(data["usage"]),
    )


async def events_parse(messages: AsyncIterator[SSEMessage], provider: str) -> AsyncIterator[ProviderEvent]:
    """Anthropic's event sequence into canonical events; complete only at `message_stop`."""
    usage: dict[str, Any] = {}  # message_start's counts, updated by message_delta's cumulative ones
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
            usage.update(event["message"].get("usage") or {})
        elif kind == "message_delta":
            stop = STOP.get(event["delta"].get("stop_reason") or "end_turn", StopReason.END)
            stop_sequence = event["delta"].get("stop_sequence")
            usage.update({key: value for key, value in (event.get("usage") or {}).items() if value is not None})
        elif kind == "message_stop":
            yield StreamEnd(stop, usage_parse(usage), stop_sequence)
            return
        elif kind == "error":
            error = event.get("error") or {}
            overloaded = error.get("type") == "overloaded_error"
            raise ProxyError(ErrorKind.OVERLOADED if overloaded else ErrorKind.SERVER,
                             f"{provider}: {error.get('message') or error.get('type')}", provider=provider)
    raise ProxyError(ErrorKind.STREAM_BROKEN, f"{provider}: stream ended before message_stop", provider=provider)
