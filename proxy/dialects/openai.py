"""OpenAI chat completions <-> canonical types: request parsing, responses, chunk streams and error bodies."""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import Mapping
from typing import Any

from proxy.dialects.fields import (
    Limits,
    body_decode,
    image_part,
    messages_list,
    number_in,
    optional,
    positive_int,
    required,
    stop_list,
    tool_build,
    tool_choice_mode,
    tool_result_append,
    tools_limit,
)
from proxy.errors import ErrorKind, ProxyError, invalid
from proxy.streaming.sse import KEEPALIVE, json_dumps, sse_data
from proxy.types import (
    ChatRequest,
    ChatResponse,
    ClientEvent,
    EmbedRequest,
    EmbedResponse,
    Finished,
    KeepAlive,
    Message,
    Native,
    Part,
    ResponseFormat,
    RouteInfo,
    Started,
    StopReason,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResultPart,
    ToolUsePart,
    Usage,
)

FINISH = {
    StopReason.END: "stop", StopReason.LENGTH: "length", StopReason.STOP_SEQUENCE: "stop",
    StopReason.TOOL_USE: "tool_calls", StopReason.REFUSAL: "content_filter",
}
# OpenAI has no thinking budget, only an effort; these are the budgets the other providers receive.
EFFORT_BUDGET = {"minimal": 512, "low": 1024, "medium": 4096, "high": 16384}
# OpenAI request fields with no canonical form, forwarded verbatim to OpenAI-family upstreams (OpenAI, vLLM,
# llama.cpp) and left out, reported, elsewhere. `prompt_cache_key` is OpenAI's prompt-caching control.
NATIVE_FIELDS = ("prompt_cache_key", "prompt_cache_retention", "parallel_tool_calls", "seed", "presence_penalty",
                 "frequency_penalty", "service_tier", "safety_identifier", "verbosity", "metadata", "store")
ERROR_TYPE = {
    ErrorKind.UNAUTHORIZED: "authentication_error", ErrorKind.FORBIDDEN: "permission_error",
    ErrorKind.RATE_LIMITED: "rate_limit_error", ErrorKind.NOT_FOUND: "not_found_error",
}


class OpenAIDialect:
    name = "openai"

    def chat_parse(self, body: bytes, limits: Limits, headers: Mapping[str, str] | None = None) -> ChatRequest:
        data = body_decode(body, limits)
        model = required(data, "model", str)
        system, messages = _messages(messages_list(data, limits))
        if optional(data, "n", int) not in (None, 1):
            raise invalid("'n' other than 1 is not supported", param="n")
        tools = _tools(optional(data, "tools", list) or [], limits)
        stream = bool(optional(data, "stream", bool))
        options = optional(data, "stream_options", dict) or {}
        effort = optional(data, "reasoning_effort", str)
        if effort is not None and effort not in EFFORT_BUDGET:
            raise invalid(f"'reasoning_effort' must be one of {sorted(EFFORT_BUDGET)}", param="reasoning_effort")
        return ChatRequest(
            model=model,
            messages=messages,
            system=system,
            tools=tools,
            tool_choice=_tool_choice(data.get("tool_choice")),
            max_tokens=positive_int(data, "max_completion_tokens") or positive_int(data, "max_tokens"),
            temperature=number_in(data, "temperature", 0, 2),
            top_p=number_in(data, "top_p", 0, 1),
            stop=stop_list(data.get("stop"), "stop"),
            stream=stream,
            include_usage=stream and bool(optional(options, "include_usage", bool, "stream_options")),
            response_format=_response_format(optional(data, "response_format", dict)),
            thinking_budget=EFFORT_BUDGET[effort] if effort else None,
            user=optional(data, "user", str) or "",
            native=native_fields(data, NATIVE_FIELDS),
        )

    def chat_render(self, response: ChatResponse, route: RouteInfo) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": response.text or None, "refusal": None}
        calls = [part for part in response.content if isinstance(part, ToolUsePart)]
        if calls:
            message["tool_calls"] = [_tool_call(i, c.id, c.name, json.dumps(c.input))[1] for i, c in enumerate(calls)]
        thinking = "".join(p.text for p in response.content if isinstance(p, ThinkingPart))
        if thinking:
            message["reasoning_content"] = thinking
        return {
            "id": f"chatcmpl-{response.id}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": response.model,
            "choices": [{"index": 0, "message": message, "finish_reason": FINISH[response.stop_reason],
                         "logprobs": None}],
            "usage": usage_render(response.usage),
            "legion": route.as_metadata(),
        }

    def stream_renderer(self, request: ChatRequest) -> OpenAIStreamRenderer:
        return OpenAIStreamRenderer(include_usage=request.include_usage, model=request.model)

    def error_body(self, error: ProxyError) -> dict[str, Any]:
        kind = ERROR_TYPE.get(error.kind, "invalid_request_error" if error.status < 500 else "api_error")
        return {"error": {"message": error.message, "type": kind, "param": error.param, "code": error.kind.value}}


class OpenAIStreamRenderer:
    """One chat.completion.chunk per event; tool calls arrive whole, each as a single delta."""

    def __init__(self, *, include_usage: bool, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.include_usage = include_usage
        self.tool_calls = 0
        self.model = model

    @property
    def model(self) -> str:
        return self._model

    @model.setter
    def model(self, model: str) -> None:
        # A chunk is the same JSON every time but for its delta: serialise the rest once per stream, not per chunk.
        self._model = model
        self._head = (f'data: {{"id":{json_dumps(self.id)},"object":"chat.completion.chunk","created":{self.created},'
                      f'"model":{json_dumps(model)},"choices":[{{"index":0,"delta":').encode()

    def render(self, event: ClientEvent) -> bytes:
        if isinstance(event, TextDelta):
            return self._chunk({"content": event.text})
        if isinstance(event, ThinkingDelta):
            return self._chunk({"reasoning_content": event.text}) if event.text else b""
        if isinstance(event, ToolCall):
            index, call = _tool_call(self.tool_calls, event.id, event.name, event.arguments)
            self.tool_calls += 1
            return self._chunk({"tool_calls": [{"index": index, **call}]})
        if isinstance(event, Started):
            self.model = event.model
            return self._chunk({"role": "assistant", "content": ""})
        if isinstance(event, KeepAlive):
            return KEEPALIVE
        return self._finish(event)

    def error(self, error: ProxyError) -> bytes:
        # The SDKs raise on a data payload carrying `error`, so a failed stream is never read as a clean answer.
        return sse_data(OpenAIDialect().error_body(error))

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        if finish is None and not extra:
            return self._head + json_dumps(delta).encode() + _CHUNK_TAIL
        return sse_data({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra,
        })

    def _finish(self, event: Finished) -> bytes:
        out = self._chunk({}, FINISH[event.stop_reason], legion=event.route.as_metadata())
        if self.include_usage:
            out += sse_data({
                "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [], "usage": usage_render(event.usage),
            })
        return out + b"data: [DONE]\n\n"


_CHUNK_TAIL = b',"finish_reason":null,"logprobs":null}]}\n\n'


def usage_render(usage: Usage) -> dict[str, Any]:
    """OpenAI counts cached prompt tokens inside `prompt_tokens` and names them apart in the details."""
    return {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens}}


def native_fields(data: Mapping[str, Any], names: tuple[str, ...]) -> Native | None:
    """The allow-listed OpenAI-only fields present in `data`, for OpenAI-family upstreams."""
    fields = {key: data[key] for key in names if data.get(key) is not None}
    return Native("openai", fields) if fields else None


def _tool_call(index: int, call_id: str, name: str, arguments: str) -> tuple[int, dict[str, Any]]:
    return index, {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _messages(raw: list[Any]) -> tuple[tuple[TextPart, ...], tuple[Message, ...]]:
    """(leading system prompt, turns): system messages before the first turn are the prompt; any later one
    stays a system message where the client put it (hoisting it would change the cached prefix)."""
    system: list[TextPart] = []
    messages: list[Message] = []
    for index, item in enumerate(raw):
        path = f"messages[{index}]"
        if not isinstance(item, dict):
            raise invalid(f"'{path}' must be an object", param=path)
        role = required(item, "role", str, path)
        if role in ("system", "developer"):
            parts = _text_parts(item.get("content"), f"{path}.content")
            if messages:
                messages.append(Message("system", parts))
            else:
                system.extend(part for part in parts if part.text)
        elif role == "user":
            messages.append(Message("user", _user_content(item.get("content"), f"{path}.content")))
        elif role == "assistant":
            messages.append(Message("assistant", _assistant_content(item, path)))
        elif role == "tool":
            result = ToolResultPart(
                tool_use_id=required(item, "tool_call_id", str, path),
                content=_text_parts(item.get("content"), f"{path}.content"),
            )
            tool_result_append(messages, result)
        else:
            raise invalid(f"'{path}.role' must be system, developer, user, assistant or tool, got '{role}'",
                          param=f"{path}.role")
    if not any(message.role != "system" for message in messages):
        raise invalid("'messages' needs at least one user or assistant message", param="messages")
    return tuple(system), tuple(messages)


def _text_parts(content: Any, path: str) -> tuple[TextPart, ...]:
    """A string, or text parts with their cache breakpoints, as canonical text parts."""
    if isinstance(content, str):
        return (TextPart(content),)
    if isinstance(content, list):
        parts = []
        for index, part in enumerate(content):
            where = f"{path}[{index}]"
            if not isinstance(part, dict) or part.get("type") != "text":
                raise invalid(f"'{where}' must be a text part", param=where)
            parts.append(TextPart(required(part, "text", str, where), optional(part, "cache_control", dict, where)))
        return tuple(parts)
    raise invalid(f"'{path}' must be a string or an array of text parts", param=path)


def _user_content(content: Any, path: str) -> tuple[Part, ...]:
    if isinstance(content, str):
        return (TextPart(content),)
    if not isinstance(content, list) or not content:
        raise invalid(f"'{path}' must be a string or a non-empty array of parts", param=path)
    parts: list[Part] = []
    for index, part in enumerate(content):
        where = f"{path}[{index}]"
        if not isinstance(part, dict):
            raise invalid(f"'{where}' must be an object", param=where)
        kind = required(part, "type", str, where)
        cache = optional(part, "cache_control", dict, where)
        if kind == "text":
            parts.append(TextPart(required(part, "text", str, where), cache))
        elif kind == "image_url":
            url = required(required(part, "image_url", dict, where), "url", str, f"{where}.image_url")
            parts.append(image_part(url, f"{where}.image_url.url", cache))
        else:
            raise invalid(f"'{where}.type' '{kind}' is not supported (text and image_url are)", param=f"{where}.type")
    return tuple(parts)


def _assistant_content(item: dict[str, Any], path: str) -> tuple[Part, ...]:
    content = item.get("content")
    parts: list[Part] = []
    if content is not None:
        parts.extend(part for part in _text_parts(content, f"{path}.content") if part.text)
    for index, call in enumerate(optional(item, "tool_calls", list, path) or []):
        where = f"{path}.tool_calls[{index}]"
        if not isinstance(call, dict):
            raise invalid(f"'{where}' must be an object", param=where)
        function = required(call, "function", dict, where)
        arguments = optional(function, "arguments", str, f"{where}.function") or "{}"
        try:
            decoded = json.loads(arguments)
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            raise invalid(f"'{where}.function.arguments' must be a JSON object", param=f"{where}.function.arguments")
        parts.append(ToolUsePart(
            id=required(call, "id", str, where), name=required(function, "name", str, f"{where}.function"),
            input=decoded,
        ))
    if not parts:
        parts.append(TextPart(""))
    return tuple(parts)


def _tools(raw: list[Any], limits: Limits) -> tuple[Tool, ...]:
    tools_limit(raw, limits)
    tools = []
    for index, item in enumerate(raw):
        path = f"tools[{index}]"
        if not isinstance(item, dict) or item.get("type", "function") != "function":
            raise invalid(f"'{path}' must be a function tool", param=path)
        function = required(item, "function", dict, path)
        tools.append(tool_build(function.get("name"), function.get("description"), function.get("parameters"),
                                f"{path}.function"))
    names = [tool.name for tool in tools]
    if len(set(names)) != len(names):
        raise invalid("tool names must be unique", param="tools")
    return tuple(tools)


def _tool_choice(raw: Any) -> ToolChoice:
    if (mode := tool_choice_mode(raw)) is not None:
        return mode
    if isinstance(raw, dict) and isinstance(raw.get("function"), dict):
        return ToolChoice("tool", required(raw["function"], "name", str, "tool_choice.function"))
    raise invalid("'tool_choice' must be auto, none, required or a named function", param="tool_choice")


def _response_format(raw: dict[str, Any] | None) -> ResponseFormat | None:
    if raw is None:
        return None
    kind = required(raw, "type", str, "response_format")
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat("json")
    if kind == "json_schema":
        spec = required(raw, "json_schema", dict, "response_format")
        schema = optional(spec, "schema", dict, "response_format.json_schema") or {}
        return ResponseFormat("json_schema", schema=schema, name=optional(spec, "name", str) or "response")
    raise ProxyError(ErrorKind.INVALID_REQUEST, f"'response_format.type' '{kind}' is not supported",
                     param="response_format.type")


def embed_parse(body: bytes, limits: Limits) -> tuple[EmbedRequest, str]:
    """(request, encoding format); the SDK asks for base64 by default and decodes it itself."""
    data = body_decode(body, limits)
    model = required(data, "model", str)
    raw = required(data, "input", (str, list))
    inputs = [raw] if isinstance(raw, str) else raw
    if not inputs:
        raise invalid("'input' must not be empty", param="input")
    if len(inputs) > limits.max_messages:
        raise invalid(f"'input' has {len(inputs)} entries; the limit is {limits.max_messages}", param="input")
    for index, item in enumerate(inputs):
        if not isinstance(item, str):
            raise invalid(f"'input[{index}]' must be a string (token arrays are not supported)", param="input")
    encoding = optional(data, "encoding_format", str) or "float"
    if encoding not in ("float", "base64"):
        raise invalid("'encoding_format' must be float or base64", param="encoding_format")
    return EmbedRequest(model=model, inputs=tuple(inputs), dimensions=positive_int(data, "dimensions")), encoding


def embed_render(result: EmbedResponse, encoding: str) -> dict[str, Any]:
    def encode(vector: tuple[float, ...]) -> Any:
        if encoding == "base64":
            return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        return list(vector)

    return {
        "object": "list", "model": result.model,
        "data": [{"object": "embedding", "index": i, "embedding": encode(v)} for i, v in enumerate(result.vectors)],
        "usage": {"prompt_tokens": result.usage.input_tokens, "total_tokens": result.usage.input_tokens},
    }


def models_render(names: list[str]) -> dict[str, Any]:
    return {"object": "list", "data": [model_render(name) for name in names]}


def model_render(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "legion"}
