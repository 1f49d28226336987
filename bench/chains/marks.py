"""The finish line both chains report to: the last task pushes its end time to a Redis list the driver pops.

A mark is `<redis list key>|<label>`, so a worker needs no configuration of its own to report.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def _client() -> Any:
    # Created lazily in the process that reports: a client made before a fork would share its socket.
    return redis.Redis.from_url(settings.CONFIG["redis.url"])


def mark_done(mark: str) -> None:
    """Report that the chain labelled by `mark` reached its last task, now."""
    key, _, label = mark.partition("|")
    _client().rpush(key, f"{label} {time.time()!r}")


def marks_wait(key: str, count: int, timeout: float) -> dict[str, float]:
    """Pop `count` marks from `key` (label -> end time); raises TimeoutError if they do not all arrive in time."""
    found: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(found) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{len(found)} of {count} chains finished within {timeout:.0f}s")
        # Short blocking pops: redis-py's socket timeout (5 s by default) cuts a longer wait with an error.
        popped = _client().blpop([key], timeout=min(left, 1.0))
        if popped is None:
            continue
        label, _, at = popped[1].decode().partition(" ")
        found[label] = float(at)
    return found


def marks_clear(key: str) -> None:
    _client().delete(key)
