"""Per-attempt stream deadlines: time to the first event, longest idle gap, and the request's overall end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TypeVar

from proxy.errors import ErrorKind, ProxyError

T = TypeVar("T")


async def deadline_guard(
    events: AsyncIterator[T], *, first: float, idle: float, until: float, provider: str,
) -> AsyncIterator[T]:
    """Pass `events` through, raising a TIMEOUT ProxyError when the provider is silent too long.

    `until` is the request's total deadline on the monotonic clock; whichever limit is nearer applies.
    """
    iterator = aiter(events)
    limit, what = first, "first token"
    try:
        while True:
            budget = min(limit, until - time.monotonic())
            try:
                async with asyncio.timeout(max(0.0, budget)):
                    event = await anext(iterator)
            except StopAsyncIteration:
                return
            except TimeoutError:
                reason = what if budget == limit else "request deadline"
                raise ProxyError(ErrorKind.TIMEOUT, f"{provider}: no {reason} within {budget:.2f}s",
                                 provider=provider) from None
            yield event
            limit, what = idle, "event (idle gap)"
    finally:
        await _aclose(iterator)


async def _aclose(iterator: AsyncIterator[object]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()
