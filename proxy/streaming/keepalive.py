"""Keep-alives: while the stream beneath is silent (a provider thinking, or failing over), say so periodically."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from proxy.streaming.closing import iterator_close
from proxy.types import KeepAlive, Started

T = TypeVar("T")
KEEPALIVE = KeepAlive()
READ_AHEAD = 64  # events read before the client takes them; beyond that the stream beneath waits


@dataclass(slots=True)
class _End:
    error: BaseException | None = None


class _ReadAhead(Generic[T]):
    """Reads a stream in a task of its own, so its reader can wait without a timer per event and without ever
    cancelling the stream, and can take every event already read at once.

    One timer per stream, re-armed from the last event, puts a KeepAlive in the queue after `interval` seconds
    of silence. The stream's opening and first token are handed over as soon as they are read, before anything
    else is: batching must never delay the first token.
    """

    def __init__(self, events: AsyncIterator[T], interval: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.interval = interval
        self.iterator = aiter(events)
        self.queue: asyncio.Queue[T | KeepAlive | _End] = asyncio.Queue(READ_AHEAD)
        self.last = self.loop.time()
        self.closing = False
        self.opening = True
        self.task = self.loop.create_task(self._read())
        self.task.add_done_callback(self._ended)
        self.timer = self.loop.call_at(self.last + interval, self._tick)

    async def _read(self) -> None:
        try:
            async for event in self.iterator:
                self.last = self.loop.time()
                await self.queue.put(event)
                if self.opening and not isinstance(event, Started):
                    self.opening = False
                    await asyncio.sleep(0)  # lets the reader take the opening and first token now, in one write
        except Exception as exc:  # noqa: BLE001 - handed over: the reader raises it where the stream would have
            await self.queue.put(_End(exc))
        else:
            await self.queue.put(_End())

    def _ended(self, task: asyncio.Task[None]) -> None:
        # Cancelled by someone else than aclose(): the reader must not wait forever for an end never queued.
        if task.cancelled() and not self.closing:
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(_End(asyncio.CancelledError()))

    def _tick(self) -> None:
        now = self.loop.time()
        if now - self.last >= self.interval and self.queue.empty():
            self.queue.put_nowait(KEEPALIVE)
            self.last = now
        due = self.last + self.interval
        self.timer = self.loop.call_at(due if due > now else now + self.interval, self._tick)

    async def take(self) -> list[T | KeepAlive | _End]:
        """What has arrived, waiting for at least one item; an _End is always the last item queued."""
        if self.queue.empty() and self.task.cancelled():
            return [_End(asyncio.CancelledError())]
        batch = [await self.queue.get()]
        while not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return batch

    async def aclose(self) -> None:
        self.closing = True
        self.timer.cancel()
        if not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await iterator_close(self.iterator)


async def batches_with_keepalives(events: AsyncIterator[T], interval: float,
                                  ) -> AsyncGenerator[list[T | KeepAlive], None]:
    """`events` in batches of whatever has arrived (so a client gets them in one write), plus a KeepAlive
    whenever `interval` seconds pass without one; never an empty batch.

    The stream is read in a task of its own, so waiting can time out without cancelling the stream beneath.
    """
    reader = _ReadAhead(events, interval)
    try:
        while True:
            batch = await reader.take()
            end = batch.pop() if isinstance(batch[-1], _End) else None
            if batch:
                yield cast(list[T | KeepAlive], batch)
            if isinstance(end, _End):
                if end.error is not None:
                    raise end.error
                return
    finally:
        await reader.aclose()


async def with_keepalives(events: AsyncIterator[T], interval: float) -> AsyncGenerator[T | KeepAlive, None]:
    """`events` one by one, plus a KeepAlive whenever `interval` seconds pass without one."""
    async with contextlib.aclosing(batches_with_keepalives(events, interval)) as batches:
        async for batch in batches:
            for event in batch:
                yield event
