"""Closing the async iterators a stream is stacked from, each by the stage that owns it."""

from __future__ import annotations

from collections.abc import AsyncIterator


async def iterator_close(iterator: AsyncIterator[object]) -> None:
    """`aclose()` it now when it has one (async generators do), rather than leave it to the garbage collector,
    which would close it later in a task of its own."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()
