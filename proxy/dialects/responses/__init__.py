"""OpenAI Responses (`POST /v1/responses`) <-> canonical types, the dialect of the Codex CLI and the Agents SDK.

A Response object repeats the request's tools, instructions and options, and a tool call is rendered back by the
kind of tool it was declared as; so, unlike the other dialects, this one holds the request it parsed, and the
consumer makes one per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.dialects.fields import Limits
from proxy.dialects.openai import OpenAIDialect
from proxy.dialects.responses.parse import ResponsesRequest, request_parse
from proxy.dialects.responses.render import whole_render
from proxy.dialects.responses.stream import ResponsesStreamRenderer
from proxy.errors import ErrorKind, ProxyError
from proxy.types import ChatRequest, ChatResponse, RouteInfo


class ResponsesDialect:
    name = "responses"

    def __init__(self) -> None:
        self.parsed: ResponsesRequest | None = None

    def chat_parse(self, body: bytes, limits: Limits, headers: Mapping[str, str] | None = None) -> ChatRequest:
        self.parsed = request_parse(body, limits)
        return self.parsed.chat

    def chat_render(self, response: ChatResponse, route: RouteInfo) -> dict[str, Any]:
        return whole_render(self._request(), response, route)

    def stream_renderer(self, request: ChatRequest) -> ResponsesStreamRenderer:
        return ResponsesStreamRenderer(self._request())

    def error_body(self, error: ProxyError) -> dict[str, Any]:
        """Errors before a response exists are OpenAI's plain error bodies, as the Responses API gives them."""
        return OpenAIDialect().error_body(error)

    def _request(self) -> ResponsesRequest:
        if self.parsed is None:
            raise ProxyError(ErrorKind.INTERNAL, "the responses dialect rendered before it parsed a request")
        return self.parsed
