"""Tool-call buffering: a client sees a tool call whole, or not at all if its stream fails half-way."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field

from proxy.errors import ErrorKind, ProxyError
from proxy.streaming.closing import iterator_close
from proxy.types import ProviderEvent, StreamEnd, TextDelta, ThinkingDelta, ToolCall, ToolCallDelta


@dataclass
class _Pending:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallBuffer:
    """Collects fragments per index; `flush` releases complete calls in index order."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.pending: dict[int, _Pending] = {}

    def add(self, delta: ToolCallDelta) -> None:
        entry = self.pending.setdefault(delta.index, _Pending())
        entry.id = entry.id or delta.id
        entry.name = entry.name or delta.name
        if delta.arguments:
            entry.arguments.append(delta.arguments)

    def flush(self) -> list[ToolCall]:
        calls = [self._whole(entry) for _, entry in sorted(self.pending.items())]
        self.pending.clear()
        return calls

    def _whole(self, entry: _Pending) -> ToolCall:
        arguments = "".join(entry.arguments) or "{}"
        try:
            decoded = json.loads(arguments)
        except ValueError:
            decoded = None
        if not entry.name or not isinstance(decoded, dict):
            # A call we cannot hand over whole is a provider fault, and another candidate may do better.
            raise ProxyError(ErrorKind.STREAM_BROKEN, f"{self.provider}: tool call '{entry.name}' arrived malformed",
                             provider=self.provider)
        return ToolCall(id=entry.id or f"call_{uuid.uuid4().hex[:24]}", name=entry.name, arguments=arguments)


async def tool_calls_whole(
    events: AsyncIterator[ProviderEvent], provider: str,
) -> AsyncGenerator[TextDelta | ThinkingDelta | ToolCall | StreamEnd, None]:
    """Replace ToolCallDelta fragments with whole ToolCalls, released at the end of the stream.

    Calls are held until StreamEnd (or until text follows them, which keeps the order), so a stream that dies
    during a call never shows the client a fragment; the next candidate answers instead.
    """
    buffer = ToolCallBuffer(provider)
    try:
        async for event in events:
            if isinstance(event, ToolCallDelta):
                buffer.add(event)
                continue
            if buffer.pending and isinstance(event, TextDelta | StreamEnd):
                for call in buffer.flush():
                    yield call
            yield event
    finally:
        await iterator_close(events)  # at once: the provider's connection goes back to its pool now
