"""Canonical request, message, response and stream-event types every dialect and provider translates to and from."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

# Slotted dataclasses rather than pydantic models: these are built and read on every request and chunk,
# and validation already happened in the dialect that produced them.


# `cache` on a part or tool is the client's prompt-cache breakpoint (Anthropic's `cache_control` object), kept
# verbatim: moving or rewriting one would make the provider's cached prefix miss.
Cache = Mapping[str, Any] | None


@dataclass(slots=True, frozen=True)
class TextPart:
    text: str
    cache: Cache = None
    type: Literal["text"] = "text"


@dataclass(slots=True, frozen=True)
class ImagePart:
    """An image given inline (`data`, base64) or by URL; exactly one of the two is set."""

    media_type: str = ""
    data: str = ""
    url: str = ""
    cache: Cache = None
    type: Literal["image"] = "image"


@dataclass(slots=True, frozen=True)
class ToolUsePart:
    """A call the assistant made; `input` is the decoded JSON object of arguments."""

    id: str
    name: str
    input: Mapping[str, Any]
    cache: Cache = None
    type: Literal["tool_use"] = "tool_use"


@dataclass(slots=True, frozen=True)
class ToolResultPart:
    tool_use_id: str
    content: tuple[TextPart | ImagePart, ...]
    is_error: bool = False
    cache: Cache = None
    type: Literal["tool_result"] = "tool_result"

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.content if isinstance(part, TextPart))


@dataclass(slots=True, frozen=True)
class ThinkingPart:
    """Reasoning text; `signature` is the provider's opaque proof, meaningful only to that provider."""

    text: str
    signature: str = ""
    type: Literal["thinking"] = "thinking"


Part = TextPart | ImagePart | ToolUsePart | ToolResultPart | ThinkingPart
Role = Literal["system", "user", "assistant"]


@dataclass(slots=True, frozen=True)
class Message:
    """One turn. Tool results travel in user turns (as Anthropic does); OpenAI's `tool` role maps onto that.

    A `system` message here is one the client put in the middle of the conversation (an agent's reminder); it
    stays where it is. A leading system prompt is never a message: it is `ChatRequest.system`.
    """

    role: Role
    content: tuple[Part, ...]
    native: Mapping[str, Any] | None = None  # a dialect's extra turn fields (Anthropic's per-turn output_config)

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.content if isinstance(part, TextPart))


@dataclass(slots=True, frozen=True)
class Tool:
    name: str
    description: str
    input_schema: Mapping[str, Any]
    cache: Cache = None
    native: Mapping[str, Any] | None = None  # a dialect's extra tool fields, for providers of its family only


@dataclass(slots=True, frozen=True)
class ToolChoice:
    """`auto` lets the model decide, `none` forbids tools, `any` requires one, `tool` requires `name`."""

    mode: Literal["auto", "none", "any", "tool"] = "auto"
    name: str = ""


@dataclass(slots=True, frozen=True)
class ResponseFormat:
    """Structured output: `json` for any JSON object, `json_schema` for one matching `schema`."""

    kind: Literal["json", "json_schema"]
    schema: Mapping[str, Any] | None = None
    name: str = ""


@dataclass(slots=True, frozen=True)
class Native:
    """What only providers of one wire family understand, kept verbatim from a client of that family.

    `fields` are allow-listed top-level request fields (see each dialect), `betas` Anthropic's `anthropic-beta`
    values. A provider of `family` sends them as they came; any other provider leaves them out, and the route
    reports each field it left out, so the degradation is explicit.
    """

    family: Literal["openai", "anthropic"]
    fields: Mapping[str, Any]
    betas: tuple[str, ...] = ()
    translated: frozenset[str] = frozenset()  # fields the canonical request also carries in its own terms

    def dropped_by(self, family: str | None) -> tuple[str, ...]:
        """The fields a provider of `family` leaves out without an equivalent."""
        if family == self.family:
            return ()
        return tuple(key for key in self.fields if key not in self.translated)


@dataclass(slots=True, frozen=True)
class ChatRequest:
    model: str
    messages: tuple[Message, ...]
    system: tuple[TextPart, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice = ToolChoice()
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    stream: bool = False
    include_usage: bool = False
    response_format: ResponseFormat | None = None
    thinking_budget: int | None = None
    user: str = ""
    native: Native | None = None
    dropped: tuple[str, ...] = ()  # client fields the dialect left out for every provider (a hosted tool), reported

    def native_for(self, family: str) -> Native | None:
        """The client's own fields and betas when it speaks `family` (a provider of that family takes them)."""
        return self.native if self.native is not None and self.native.family == family else None

    @property
    def system_text(self) -> str:
        return "\n\n".join(block.text for block in self.system if block.text)

    @property
    def has_images(self) -> bool:
        return any(
            isinstance(part, ImagePart)
            or (isinstance(part, ToolResultPart) and any(isinstance(p, ImagePart) for p in part.content))
            for message in self.messages
            for part in message.content
        )


@dataclass(slots=True, frozen=True)
class EmbedRequest:
    model: str
    inputs: tuple[str, ...]
    dimensions: int | None = None


@dataclass(slots=True, frozen=True)
class EmbedResponse:
    model: str
    vectors: tuple[tuple[float, ...], ...]
    usage: Usage


@dataclass(slots=True, frozen=True)
class Usage:
    """Token counts; `reported` is False when the proxy estimated them because the provider did not say.

    `input_tokens` counts the whole prompt (OpenAI's sense); the cache counts are the parts of it read from or
    written to the provider's prompt cache (Anthropic reports input net of them, and its renderer subtracts).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    reported: bool = True
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.reported and other.reported,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_creation_tokens + other.cache_creation_tokens,
        )

    @property
    def uncached_input_tokens(self) -> int:
        return max(0, self.input_tokens - self.cache_read_tokens - self.cache_creation_tokens)


class StopReason(enum.StrEnum):
    END = "end"
    LENGTH = "length"
    STOP_SEQUENCE = "stop_sequence"
    TOOL_USE = "tool_use"
    REFUSAL = "refusal"


@dataclass(slots=True, frozen=True)
class ChatResponse:
    id: str
    model: str
    content: tuple[Part, ...]
    stop_reason: StopReason
    usage: Usage
    stop_sequence: str | None = None

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.content if isinstance(part, TextPart))


# Stream events a provider adapter yields, in order; exactly one StreamEnd closes a complete stream.


@dataclass(slots=True, frozen=True)
class TextDelta:
    text: str


@dataclass(slots=True, frozen=True)
class ThinkingDelta:
    text: str = ""
    signature: str = ""


@dataclass(slots=True, frozen=True)
class ToolCallDelta:
    """A fragment of tool call `index`: the first carries id and name, later ones more argument JSON."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(slots=True, frozen=True)
class StreamEnd:
    stop_reason: StopReason
    usage: Usage | None = None
    stop_sequence: str | None = None


ProviderEvent = TextDelta | ThinkingDelta | ToolCallDelta | StreamEnd


# Events the client-facing stream carries after assembly: tool calls only whole, plus keep-alives and the end.


@dataclass(slots=True, frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # complete JSON text of an object


@dataclass(slots=True, frozen=True)
class KeepAlive:
    pass


@dataclass(slots=True, frozen=True)
class RouteInfo:
    """What served the request, reported in headers up front and in the final event's metadata."""

    provider: str
    model: str
    tier: str
    attempts: int
    failovers: int
    served_by: tuple[str, ...] = ()
    continued: bool = False
    max_tokens: int | None = None  # set when the request's max_tokens was clamped to the model's limit
    dropped: tuple[str, ...] = ()  # client fields this provider cannot take, left out (see Native)

    def as_metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "provider": self.provider, "model": self.model, "tier": self.tier, "attempts": self.attempts,
            "failover": self.failovers > 0, "failovers": self.failovers, "served_by": list(self.served_by),
            "continued": self.continued,
        }
        if self.max_tokens is not None:
            meta["max_tokens_clamped_to"] = self.max_tokens
        if self.dropped:
            meta["dropped_fields"] = list(self.dropped)
        return meta


@dataclass(slots=True, frozen=True)
class Started:
    """The first provider began answering; renderers open the message with this model name."""

    model: str
    input_tokens: int
    route: RouteInfo | None = None


@dataclass(slots=True, frozen=True)
class Finished:
    stop_reason: StopReason
    usage: Usage
    route: RouteInfo
    stop_sequence: str | None = None


ClientEvent = Started | TextDelta | ThinkingDelta | ToolCall | KeepAlive | Finished
