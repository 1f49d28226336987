"""Continuing an answer on another model after part of it reached the client, without repeating or restarting."""

from __future__ import annotations

import dataclasses

from proxy.config import ModelSpec
from proxy.types import ChatRequest, Message, TextPart

INSTRUCTION = (
    "Your previous reply was cut off. Continue it exactly where it stopped: do not repeat anything already "
    "written, do not restart, do not comment; output only the remaining text."
)


def continuation_request(request: ChatRequest, delivered: str, model: ModelSpec) -> ChatRequest:
    """`request` extended so the model writes what follows `delivered`.

    With prefill the partial answer is the assistant turn the model extends; without it, the partial answer is
    shown and an explicit instruction asks for the rest. Thinking is off: the answer is already under way, and
    providers refuse thinking on a prefilled turn.
    """
    # Anthropic rejects a prefill ending in whitespace; the joiner puts the whitespace back.
    partial = Message("assistant", (TextPart(delivered.rstrip()),))
    if "prefill" in model.capabilities:
        messages = (*request.messages, partial)
    else:
        messages = (*request.messages, partial, Message("user", (TextPart(INSTRUCTION),)))
    native = request.native
    if native is not None and "thinking" in native.fields:
        native = dataclasses.replace(native, fields={k: v for k, v in native.fields.items() if k != "thinking"})
    return dataclasses.replace(request, messages=messages, thinking_budget=None, native=native)


class ContinuationJoiner:
    """Joins continuation text onto what the client already has, at the whitespace the prefill trimmed."""

    def __init__(self, delivered: str) -> None:
        # If the client's text already ends in whitespace, leading whitespace from the continuation would double it.
        self.skip_space = delivered != delivered.rstrip()

    def feed(self, text: str) -> str:
        if self.skip_space:
            stripped = text.lstrip()
            if not stripped:
                return ""
            self.skip_space = False
            return stripped
        return text
