"""One event per proxied request with its attempts, handed to an asynchronous sink off the hot path.

Issue #5 persists these; until then the sink counts them and logs one line each.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from proxy.types import Usage

log = logging.getLogger("legion.proxy.ledger")


@dataclass(slots=True)
class AttemptRecord:
    """`outcome` is "ok", an error kind, or "skipped_open" for a lane whose breaker was open (no network)."""

    provider: str
    model: str
    tier: str
    outcome: str
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    usage: Usage | None = None
    error: str = ""

    @property
    def usage_source(self) -> str | None:
        if self.usage is None:
            return None
        return "provider" if self.usage.reported else "estimated"

    def as_dict(self) -> dict[str, Any]:
        data = _fields(self)
        data["usage"] = None if self.usage is None else _fields(self.usage)
        data["usage_source"] = self.usage_source
        return data


@dataclass(slots=True)
class RequestEvent:
    request_id: str
    endpoint: str
    dialect: str
    requested_model: str
    stream: bool
    caller_key_id: str | None
    started_at: float
    duration_ms: float = 0.0
    outcome: str = "ok"
    attempts: list[AttemptRecord] = field(default_factory=list)

    @property
    def failovers(self) -> int:
        tried = [a for a in self.attempts if a.outcome != "skipped_open"]
        return max(0, len(tried) - 1)

    def as_dict(self) -> dict[str, Any]:
        data = _fields(self)
        data["attempts"] = [attempt.as_dict() for attempt in self.attempts]
        data["failovers"] = self.failovers
        return data


def _fields(record: Any) -> dict[str, Any]:
    """A slotted dataclass's fields, one level deep: dataclasses.asdict deep-copies, several times slower, and
    this runs once per request."""
    return {name: getattr(record, name) for name in record.__slots__}


class LedgerSink(Protocol):
    def emit(self, event: RequestEvent) -> None:
        """Hand the event over without waiting; must never block or raise on the hot path."""

    async def aclose(self) -> None: ...


class LoggingSink:
    """Queues events and, in a background task, counts them by outcome and logs each as one JSON line."""

    def __init__(self, *, queue_size: int = 10000) -> None:
        self.queue: asyncio.Queue[RequestEvent] = asyncio.Queue(maxsize=queue_size)
        self.counts: Counter[str] = Counter()
        self.dropped = 0
        self._worker: asyncio.Task[None] | None = None

    def emit(self, event: RequestEvent) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._drain())
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1  # shedding ledger lines beats slowing every request when the sink falls behind

    async def _drain(self) -> None:
        while True:
            event = await self.queue.get()
            self.counts[event.outcome] += 1
            self.counts["requests"] += 1
            log.info("request %s", json.dumps(event.as_dict(), default=str))
            self.queue.task_done()

    async def flush(self) -> None:
        await self.queue.join()

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
