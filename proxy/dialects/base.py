"""The protocol every client dialect implements: parse into canonical types, render responses, streams and errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from proxy.dialects.fields import Limits
from proxy.errors import ProxyError
from proxy.types import ChatRequest, ChatResponse, ClientEvent, RouteInfo


class StreamRenderer(Protocol):
    """Turns the client-facing event stream into the dialect's SSE bytes; holds the per-stream state."""

    def render(self, event: ClientEvent) -> bytes: ...

    def error(self, error: ProxyError) -> bytes: ...


class Dialect(Protocol):
    name: str

    def chat_parse(self, body: bytes, limits: Limits, headers: Mapping[str, str] | None = None) -> ChatRequest: ...

    def chat_render(self, response: ChatResponse, route: RouteInfo) -> dict[str, Any]: ...

    def stream_renderer(self, request: ChatRequest) -> StreamRenderer: ...

    def error_body(self, error: ProxyError) -> dict[str, Any]: ...
