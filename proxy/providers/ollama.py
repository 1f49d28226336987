"""Ollama's native API over httpx: `/api/chat` (NDJSON stream) and `/api/embed`."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from proxy.config import ModelSpec
from proxy.errors import ErrorKind, ProxyError
from proxy.providers.base import HttpProvider, json_loads
from proxy.providers.system_messages import system_folded
from proxy.router.tokens import text_tokens
from proxy.streaming.sse import lines_iter
from proxy.types import (
    ChatRequest,
    ChatResponse,
    EmbedRequest,
    EmbedResponse,
    ImagePart,
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


class OllamaProvider(HttpProvider):
    stream_path = "/api/chat"

    def render(self, request: ChatRequest, model: ModelSpec, *, stream: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {"model": model.upstream, "messages": self.messages_render(request),
                                   "stream": stream}
        options: dict[str, Any] = {}
        if request.max_tokens:
            options["num_predict"] = min(request.max_tokens, model.max_output)
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.top_p is not None:
            options["top_p"] = request.top_p
        if request.stop:
            options["stop"] = list(request.stop)
        if options:
            payload["options"] = options
        if request.tools and request.tool_choice.mode != "none":
            payload["tools"] = [{"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": dict(t.input_schema)}}
                for t in request.tools]
        if request.response_format is not None:
            schema = request.response_format.schema
            payload["format"] = dict(schema) if schema else "json"
        if "thinking" in model.capabilities:
            payload["think"] = bool(request.thinking_budget)
        return payload

    def messages_render(self, request: ChatRequest) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"role": "system", "content": request.system_text}] if request.system else []
        names = {p.id: p.name for m in request.messages for p in m.content if isinstance(p, ToolUsePart)}
        for message in system_folded(request.messages):
            for part in message.content:
                if isinstance(part, ToolResultPart):
                    out.append({"role": "tool", "content": part.text, "tool_name": names.get(part.tool_use_id, "")})
            # Separate text parts (a folded reminder, for one) stay separate paragraphs in Ollama's one string.
            text = "\n\n".join(p.text for p in message.content if isinstance(p, TextPart) and p.text)
            item: dict[str, Any] = {"role": message.role, "content": text}
            images = [self._image(p) for p in message.content if isinstance(p, ImagePart)]
            if images:
                item["images"] = images
            calls = [p for p in message.content if isinstance(p, ToolUsePart)]
            if calls:
                item["tool_calls"] = [{"function": {"name": c.name, "arguments": dict(c.input)}} for c in calls]
            if item["content"] or images or calls or not any(isinstance(p, ToolResultPart) for p in message.content):
                out.append(item)
        return out

    def _image(self, part: ImagePart) -> str:
        if part.url:
            # Ollama takes only inline base64 images and never fetches URLs itself.
            raise ProxyError(ErrorKind.INVALID_REQUEST, f"{self.spec.name}: images must be inline (base64), not URLs",
                             provider=self.spec.name)
        return part.data

    async def complete(self, request: ChatRequest, model: ModelSpec) -> ChatResponse:
        data = await self.post_json("/api/chat", self.render(request, model, stream=False))
        with self.boundary():
            if data.get("error"):
                raise self.error_from(500, json.dumps(data).encode(), {})
            return _response(data, model)

    def stream_parse(self, body: AsyncIterator[bytes]) -> AsyncIterator[ProviderEvent]:
        return events_parse(lines_iter(body), self.spec.name)

    async def embed(self, request: EmbedRequest, model: ModelSpec) -> EmbedResponse:
        payload: dict[str, Any] = {"model": model.upstream, "input": list(request.inputs)}
        if request.dimensions:
            payload["dimensions"] = request.dimensions
        data = await self.post_json("/api/embed", payload)
        with self.boundary():
            tokens = data.get("prompt_eval_count")
            return EmbedResponse(
                model=model.id, vectors=tuple(tuple(float(x) for x in row) for row in data["embeddings"]),
                usage=Usage(int(tokens), 0) if tokens is not None
                else Usage(sum(text_tokens(t) for t in request.inputs), 0, reported=False),
            )

    def classify(self, status: int, message: str, code: str) -> ErrorKind:
        text = message.lower()
        if status == 404 or ("model" in text and "not found" in text):
            return ErrorKind.MODEL_MISSING
        if "server busy" in text:
            return ErrorKind.OVERLOADED
        return super().classify(status, message, code)


def _stop(data: dict[str, Any], tool_calls: bool) -> StopReason:
    if data.get("done_reason") == "length":
        return StopReason.LENGTH
    return StopReason.TOOL_USE if tool_calls else StopReason.END


def _usage(data: dict[str, Any]) -> Usage | None:
    if "prompt_eval_count" not in data and "eval_count" not in data:
        return None
    return Usage(int(data.get("prompt_eval_count") or 0), int(data.get("eval_count") or 0))


def _call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"  # Ollama gives tool calls no ids; clients need them to answer


def _response(data: dict[str, Any], model: ModelSpec) -> ChatResponse:
    message = data["message"]
    content: list[Part] = []
    if message.get("thinking"):
        content.append(ThinkingPart(message["thinking"]))
    if message.get("content"):
        content.append(TextPart(message["content"]))
    calls = message.get("tool_calls") or []
    for call in calls:
        content.append(ToolUsePart(id=_call_id(), name=call["function"]["name"],
                                   input=call["function"].get("arguments") or {}))
    usage = _usage(data) or Usage(0, text_tokens(message.get("content") or ""), reported=False)
    return ChatResponse(id=uuid.uuid4().hex, model=model.id, content=tuple(content),
                        stop_reason=_stop(data, bool(calls)), usage=usage)


async def events_parse(lines: AsyncIterator[str], provider: str) -> AsyncIterator[ProviderEvent]:
    """One JSON object per line; Ollama sends each tool call whole, and `done` closes the stream."""
    calls = 0
    async for line in lines:
        if not line.strip():
            continue
        data = json_loads(line, provider)
        if data.get("error"):
            error = str(data["error"])
            kind = ErrorKind.CONTEXT_LENGTH if "context" in error.lower() else ErrorKind.SERVER
            raise ProxyError(kind, f"{provider}: {error}", provider=provider)
        message = data.get("message") or {}
        if message.get("thinking"):
            yield ThinkingDelta(message["thinking"])
        if message.get("content"):
            yield TextDelta(message["content"])
        for call in message.get("tool_calls") or []:
            function = call["function"]
            yield ToolCallDelta(index=calls, id=_call_id(), name=function["name"],
                                arguments=json.dumps(function.get("arguments") or {}))
            calls += 1
        if data.get("done"):
            yield StreamEnd(_stop(data, calls > 0), _usage(data))
            return
    raise ProxyError(ErrorKind.STREAM_BROKEN, f"{provider}: stream ended before done", provider=provider)
