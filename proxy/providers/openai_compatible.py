"""OpenAI-compatible servers (vLLM, llama.cpp's llama-server): OpenAI's wire format with their own error bodies."""

from __future__ import annotations

import json
from typing import Any

from proxy.config import ModelSpec
from proxy.errors import ErrorKind
from proxy.providers.openai import OpenAIProvider
from proxy.types import ChatRequest


class OpenAICompatibleProvider(OpenAIProvider):
    # vLLM and llama-server read `max_tokens`; not every version knows `max_completion_tokens`.
    max_tokens_field = "max_tokens"
    system_anywhere = False

    def render_thinking(self, payload: dict[str, Any], request: ChatRequest, model: ModelSpec) -> None:
        """Reasoning models on these servers think unless told otherwise; nothing to send to ask for it."""

    def error_detail(self, body: bytes) -> tuple[str, str]:
        # vLLM answers `{"object": "error", "message": ..., "type": "BadRequestError"}` at the top level;
        # llama-server nests `{"error": {"type": "exceed_context_size_error", ...}}` like OpenAI.
        try:
            data = json.loads(body)
        except ValueError:
            return super().error_detail(body)
        if isinstance(data, dict) and data.get("object") == "error":
            return str(data.get("message") or ""), str(data.get("type") or "")
        return super().error_detail(body)

    def classify(self, status: int, message: str, code: str) -> ErrorKind:
        text = f"{code} {message}".lower()
        if "exceed_context_size" in text or "maximum context length" in text:
            return ErrorKind.CONTEXT_LENGTH
        if status == 503 and "loading model" in text:
            return ErrorKind.OVERLOADED
        return super().classify(status, message, code)
