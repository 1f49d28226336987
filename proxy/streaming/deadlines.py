"""Per-attempt stream deadlines: time to the first event, longest idle gap, and the request's overall end."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from typing import TypeVar

from proxy.errors import ErrorKind, ProxyError
from proxy.streaming.closing import iterator_close

T = TypeVar("T")
_EARLY = 0.001  # loops fire timers up to a clock tick early (uvloop counts in milliseconds)


class _Watchdog:
    """One timer per stream rather than one per event (asyncio.timeout costs a timer each time).

    While armed, the deadline moves forward with every event at the price of a float; the timer is only
    re-armed when it fires before the current deadline. Expiry cancels the waiting task, as asyncio.timeout does.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.task: asyncio.Task[object] | None = None
        self.deadline = math.inf
        self.timer: asyncio.TimerHandle | None = None
        self.expired = False

    def arm(self, task: asyncio.Task[object], deadline: float) -> None:
        self.task, self.deadline = task, deadline
        if self.timer is None or self.timer.when() > deadline:
            if self.timer is not None:
                self.timer.cancel()
            self.timer = self.loop.call_at(deadline, self._fire)

    def disarm(self) -> None:
        self.deadline = math.inf

    def _fire(self) -> None:
        self.timer = None
        if self.deadline == math.inf or self.task is None:
            return
        if self.loop.time() + _EARLY >= self.deadline:
            self.expired = True
            self.task.cancel()
        else:
            self.timer = self.loop.call_at(self.deadline, self._fire)

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


async def deadline_guard(
    events: AsyncIterator[T], *, first: float, idle: float, until: float, provider: str,
) -> AsyncIterator[T]:
    """Pass `events` through, raising a TIMEOUT ProxyError when the provider is silent too long.

    `until` is the request's total deadline on the monotonic clock; whichever limit is nearer applies.
    """
    iterator = aiter(events)
    loop = asyncio.get_running_loop()
    watchdog = _Watchdog(loop)
    limit, what = first, "first token"
    try:
        while True:
            budget = min(limit, until - time.monotonic())
            task = asyncio.current_task()
            assert task is not None
            cancelling = task.cancelling()
            watchdog.arm(task, loop.time() + max(0.0, budget))
            try:
                event = await anext(iterator)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if watchdog.expired and task.uncancel() <= cancelling:
                    reason = what if budget == limit else "request deadline"
                    raise ProxyError(ErrorKind.TIMEOUT, f"{provider}: no {reason} within {budget:.2f}s",
                                     provider=provider) from None
                raise
            finally:
                watchdog.disarm()
            yield event
            limit, what = idle, "event (idle gap)"
    finally:
        watchdog.close()
        await iterator_close(iterator)
