"""Keep-alives: while the stream beneath is silent (a provider thinking, or failing over), say so periodically."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

from proxy.types import KeepAlive

T = TypeVar("T")


async def with_keepalives(events: AsyncIterator[T], interval: float) -> AsyncGenerator[T | KeepAlive, None]:
    """Yield `events`, plus a KeepAlive whenever `interval` seconds pass without one.

    The next event is awaited in a task so waiting can time out without cancelling the stream beneath.
    """
    iterator = aiter(events)
    pending: asyncio.Future[T] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=interval)
            if not done:
                yield KeepAlive()
                continue
            finished, pending = pending, None
            try:
                event = finished.result()
            except StopAsyncIteration:
                return
            yield event
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()
