"""OpenAI's chat completions API over httpx; the OpenAI-compatible servers (vLLM, llama.cpp) reuse most of it."""

from __future__ import annotations

import base64
import json
import struct
import uuid
from collections.abc import AsyncIterator
from typing import Any

from proxy.config import ModelSpec
from proxy.errors import ErrorKind, ProxyError
from proxy.providers.base import HttpProvider, json_loads
from proxy.providers.system_messages import system_folded
from proxy.router.tokens import text_tokens
from proxy.streaming.sse import SSEMessage, lines_iter, sse_iter
from proxy.types import (
    ChatRequest,
    ChatResponse,
    EmbedRequest,
    EmbedResponse,
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

STOP = {"stop": StopReason.END, "length": StopReason.LENGTH, "tool_calls": StopReason.TOOL_USE,
        "function_call": StopReason.TOOL_USE, "content_filter": StopReason.REFUSAL}


def effort_of(budget: int) -> str:
    return "low" if budget <= 1024 else "medium" if budget <= 4096 else "high"


class OpenAIProvider(HttpProvider):
    stream_path = "/chat/completions"
    max_tokens_field = "max_completion_tokens"  # OpenAI's newer models reject the older `max_tokens`
    # OpenAI takes system messages anywhere; the chat templates of many open models raise on a late one.
    system_anywhere = True

    def render(self, request: ChatRequest, model: ModelSpec, *, stream: bool) -> dict[str, Any]:
        messages = request.messages if self.system_anywhere else system_folded(request.messages)
        payload: dict[str, Any] = {"model": model.upstream, "messages": messages_render(request.system, messages),
                                   "stream": stream}
        if stream:
            payload["stream_options"] = {"include_usage": True}
        if request.max_tokens:
            payload[self.max_tokens_field] = min(request.max_tokens, model.max_output)
        for key in ("temperature", "top_p"):
            if (value := getattr(request, key)) is not None:
                payload[key] = value
        if request.stop:
            payload["stop"] = list(request.stop)
        if request.tools:
            payload["tools"] = [{"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": dict(t.input_schema)}}
                for t in request.tools]
            choice = request.tool_choice
            payload["tool_choice"] = {"auto": "auto", "none": "none", "any": "required"}.get(choice.mode) or {
                "type": "function", "function": {"name": choice.name}}
        if request.response_format is not None:
            fmt = request.response_format
            schema = {"name": fmt.name or "response", "schema": dict(fmt.schema or {})}
            payload["response_format"] = {"type": "json_object"} if fmt.kind == "json" else {
                "type": "json_schema", "json_schema": schema}
        if request.user:
            payload["user"] = request.user
        self.render_thinking(payload, request, model)
        if (native := request.native_for("openai")) is not None:
            payload.update(native.fields)
        return payload

    def render_thinking(self, payload: dict[str, Any], request: ChatRequest, model: ModelSpec) -> None:
        if request.thinking_budget and "thinking" in model.capabilities:
            payload["reasoning_effort"] = effort_of(request.thinking_budget)

    async def complete(self, request: ChatRequest, model: ModelSpec) -> ChatResponse:
        data = await self.post_json("/chat/completions", self.render(request, model, stream=False))
        with self.boundary():
            return response_parse(data, model)

    def stream_parse(self, body: AsyncIterator[bytes]) -> AsyncIterator[ProviderEvent]:
        return events_parse(sse_iter(lines_iter(body)), self.spec.name)

    async def embed(self, request: EmbedRequest, model: ModelSpec) -> EmbedResponse:
        payload: dict[str, Any] = {"model": model.upstream, "input": list(request.inputs), "encoding_format": "float"}
        if request.dimensions:
            payload["dimensions"] = request.dimensions
        data = await self.post_json("/embeddings", payload)
        with self.boundary():
            rows = sorted(data["data"], key=lambda row: row["index"])
            usage = data.get("usage") or {}
            return EmbedResponse(
                model=model.id, vectors=tuple(tuple(_vector(row["embedding"])) for row in rows),
                usage=Usage(usage["prompt_tokens"], 0) if "prompt_tokens" in usage
                else Usage(sum(text_tokens(t) for t in request.inputs), 0, reported=False),
            )


def _vector(value: Any) -> list[float]:
    # Some servers answer base64 even when asked for floats; both are little-endian float32 when encoded.
    if isinstance(value, str):
        raw = base64.b64decode(value)
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return [float(x) for x in value]


def messages_render(system: tuple[TextPart, ...], messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    prompt = "\n\n".join(block.text for block in system if block.text)
    if prompt:
        out.append({"role": "system", "content": prompt})
    held: list[dict[str, Any]] = []  # system messages between tool calls and their results, which must be adjacent
    for index, message in enumerate(messages):
        rendered = _message(message)
        if message.role == "system" and _between_call_and_result(messages, index):
            held.extend(rendered)
            continue
        out.extend(rendered)
        if held and message.role == "user":
            out.extend(held)
            held = []
    return out + held


def _between_call_and_result(messages: tuple[Message, ...], index: int) -> bool:
    before = next((m for m in reversed(messages[:index]) if m.role != "system"), None)
    after = next((m for m in messages[index + 1:] if m.role != "system"), None)
    if before is None or after is None or before.role != "assistant":
        return False
    return any(isinstance(p, ToolUsePart) for p in before.content) and any(
        isinstance(p, ToolResultPart) for p in after.content)


def _message(message: Message) -> list[dict[str, Any]]:
    if message.role == "system":
        return [{"role": "system", "content": message.text}]
    if message.role == "assistant":
        text = "".join(p.text for p in message.content if isinstance(p, TextPart))
        item: dict[str, Any] = {"role": "assistant", "content": text or None}
        calls = [p for p in message.content if isinstance(p, ToolUsePart)]
        if calls:
            item["tool_calls"] = [{"id": c.id, "type": "function",
                                   "function": {"name": c.name, "arguments": json.dumps(c.input)}} for c in calls]
        return [item]
    # Tool results become `tool` messages, which OpenAI requires right after the assistant's calls.
    out: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": p.tool_use_id, "content": p.text}
        for p in message.content if isinstance(p, ToolResultPart)
    ]
    rest = [p for p in message.content if isinstance(p, TextPart | ImagePart)]
    if len(rest) == 1 and isinstance(rest[0], TextPart):
        out.append({"role": "user", "content": rest[0].text})
    elif rest:
        out.append({"role": "user", "content": [_user_part(p) for p in rest]})
    return out


def _user_part(part: Part) -> dict[str, Any]:
    if isinstance(part, ImagePart):
        url = part.url or f"data:{part.media_type};base64,{part.data}"
        return {"type": "image_url", "image_url": {"url": url}}
    assert isinstance(part, TextPart)
    return {"type": "text", "text": part.text}


def response_parse(data: dict[str, Any], model: ModelSpec) -> ChatResponse:
    choice = data["choices"][0]
    message = choice["message"]
    content: list[Part] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if reasoning:
        content.append(ThinkingPart(reasoning))
    if message.get("content"):
        content.append(TextPart(message["content"]))
    for call in message.get("tool_calls") or []:
        arguments = json.loads(call["function"].get("arguments") or "{}")
        content.append(ToolUsePart(id=call.get("id") or f"call_{uuid.uuid4().hex[:24]}",
                                   name=call["function"]["name"], input=arguments))
    usage = data.get("usage")
    text = "".join(p.text for p in content if isinstance(p, TextPart))
    # Unreported usage: the service puts in the prompt's estimate it made once for the request (proxy/service.py).
    return ChatResponse(
        id=uuid.uuid4().hex, model=model.id, content=tuple(content),
        stop_reason=STOP.get(choice.get("finish_reason") or "stop", StopReason.END),
        usage=usage_parse(usage) if usage else Usage(0, text_tokens(text), reported=False),
    )


def usage_parse(raw: dict[str, Any]) -> Usage:
    cached = (raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return Usage(int(raw["prompt_tokens"]), int(raw["completion_tokens"]), cache_read_tokens=int(cached))


async def events_parse(messages: AsyncIterator[SSEMessage], provider: str) -> AsyncIterator[ProviderEvent]:
    """chat.completion.chunk payloads into canonical events; the stream is complete only at `[DONE]`."""
    finish: str | None = None
    usage: Usage | None = None
    async for message in messages:
        if message.data.strip() == "[DONE]":
            yield StreamEnd(STOP.get(finish or "stop", StopReason.END), usage)
            return
        chunk = json_loads(message.data, provider)
        if chunk.get("error"):
            raise _stream_error(chunk["error"], provider)
        if chunk.get("usage"):
            usage = usage_parse(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning:
                yield ThinkingDelta(reasoning)
            if delta.get("content"):
                yield TextDelta(delta["content"])
            for call in delta.get("tool_calls") or []:
                function = call.get("function") or {}
                yield ToolCallDelta(index=call.get("index", 0), id=call.get("id") or "",
                                    name=function.get("name") or "", arguments=function.get("arguments") or "")
            finish = choice.get("finish_reason") or finish
    if finish is not None:
        # Some compatible servers close after the finish chunk without `[DONE]`; the answer is still whole.
        yield StreamEnd(STOP.get(finish, StopReason.END), usage)
        return
    raise ProxyError(ErrorKind.STREAM_BROKEN, f"{provider}: stream ended before the answer finished",
                     provider=provider)


def _stream_error(error: Any, provider: str) -> ProxyError:
    message = error.get("message", "") if isinstance(error, dict) else str(error)
    code = str(error.get("code") or error.get("type") or "") if isinstance(error, dict) else ""
    kind = ErrorKind.OVERLOADED if "overload" in f"{code} {message}".lower() else ErrorKind.SERVER
    if "context" in f"{code} {message}".lower():
        kind = ErrorKind.CONTEXT_LENGTH
    return ProxyError(kind, f"{provider}: {message or code or 'error in stream'}", provider=provider)
