"""The disk spool: messages that could not be published wait here as JSON lines, oldest file first.

Files are `spool-<UTC timestamp>-<pid>-<hex>.jsonl` so that sorting by name is sorting by age (the
glob order of the filesystem is not). Each process appends to its own current file under an
exclusive `flock` and fsyncs every line, so a message that `append` accepted survives a crash of
the process or the machine. The drainer takes the same lock on a file before it reads it; a writer
that finds its file already drained (unlinked) starts a new one, so no line is written to a file
nobody will read again.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

logger = logging.getLogger(__name__)

PATTERN = "spool-*.jsonl"


@dataclass(frozen=True)
class SpoolLimits:
    max_file_bytes: int
    max_total_bytes: int
    max_files: int
    max_age_seconds: int


@dataclass(frozen=True)
class SpoolDepth:
    files: int
    messages: int
    bytes: int
    oldest_age_seconds: float | None


class Spool:
    """One spool directory. Thread-safe within a process; process-safe through per-file locks."""

    def __init__(self, directory: Path, limits: SpoolLimits) -> None:
        self.directory = directory
        self.limits = limits
        self._lock = threading.Lock()
        self._current: BinaryIO | None = None
        self._current_pid: int | None = None

    def append(self, message: dict[str, Any]) -> None:
        """Write one message durably (fsync) before returning; rotate and evict as the limits say."""
        line = (json.dumps({**message, "spooled_at": time.time()}, separators=(",", ":")) + "\n").encode()
        with self._lock:
            handle = self._writable(len(line))
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                # Drained and unlinked before we got the lock (even a file we just created can be):
                # writing there would lose the line, so start another file until one is still linked.
                while os.fstat(handle.fileno()).st_nlink == 0:
                    fcntl.flock(handle, fcntl.LOCK_UN)
                    self._close_current()
                    handle = self._writable(len(line))
                    fcntl.flock(handle, fcntl.LOCK_EX)
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        self.evict()

    def drain(self, publish: Callable[[list[dict[str, Any]]], None], *, chunk: int = 500) -> int:
        """Replay messages oldest-first through `publish`, `chunk` at a time; stop at the first failure.

        Returns how many went. A file is deleted once every line in it is published; when a chunk fails,
        the file is rewritten from that chunk on, so a later drain resumes there (and a line published
        twice is harmless: every consumer is idempotent by run id).
        """
        sent = 0
        for path in self.files():
            with _locked(path) as handle:
                if handle is None:
                    continue
                lines = [line for line in handle.read().splitlines() if line.strip()]
                for start in range(0, len(lines), chunk):
                    messages = []
                    for line in lines[start:start + chunk]:
                        try:
                            messages.append(json.loads(line))
                        except json.JSONDecodeError:
                            logger.error("spool %s: dropping a line that is not JSON (torn write)", path.name)
                    try:
                        publish(messages)
                    except Exception:
                        _rewrite(path, handle, lines[start:])
                        raise
                    sent += len(messages)
                # A writer of this file notices the unlink (st_nlink == 0) and starts a new one.
                path.unlink(missing_ok=True)
        return sent

    def files(self) -> list[Path]:
        return sorted(self.directory.glob(PATTERN))

    def depth(self) -> SpoolDepth:
        files = self.files()
        messages = total = 0
        oldest: float | None = None
        for path in files:
            try:
                stat = path.stat()
                with path.open("rb") as handle:
                    messages += sum(1 for line in handle if line.strip())
            except FileNotFoundError:
                continue  # drained between glob and open
            total += stat.st_size
            oldest = stat.st_mtime if oldest is None else min(oldest, stat.st_mtime)
        age = time.time() - oldest if oldest is not None and messages else None
        return SpoolDepth(files=len(files), messages=messages, bytes=total, oldest_age_seconds=age)

    def evict(self) -> list[Path]:
        """Delete files past the age limit, then the oldest while over the count or size limit.

        Evicting loses messages, so it is logged as an error; the task runs they named stay queued in
        the database, where the run sweeper (apps/chains/services/sweep.py) publishes them again.
        """
        files = self.files()
        sizes = {path: _size(path) for path in files}
        now = time.time()
        evicted = [p for p in files if now - _mtime(p) > self.limits.max_age_seconds]
        remaining = [p for p in files if p not in evicted]
        while remaining and (
            len(remaining) > self.limits.max_files or sum(sizes[p] for p in remaining) > self.limits.max_total_bytes
        ):
            evicted.append(remaining.pop(0))
        for path in evicted:
            if self._current is not None and path.name == Path(self._current.name).name:
                continue  # never the file this process is writing; it is the newest anyway
            logger.error("spool: evicting %s (limits: %s)", path.name, self.limits)
            path.unlink(missing_ok=True)
        return evicted

    def _writable(self, incoming: int) -> BinaryIO:
        # A forked child must not share its parent's file (and lock) offsets.
        if self._current is not None and self._current_pid != os.getpid():
            self._current = None
        if self._current is not None:
            try:
                size = os.fstat(self._current.fileno()).st_size
            except OSError:
                size = self.limits.max_file_bytes
            if size + incoming > self.limits.max_file_bytes and size > 0:
                self._close_current()
        if self._current is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            path = self.directory / f"spool-{stamp}-{os.getpid()}-{secrets.token_hex(4)}.jsonl"
            self._current = path.open("ab")
            self._current_pid = os.getpid()
        return self._current

    def _close_current(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None


@contextmanager
def _locked(path: Path) -> Iterator[BinaryIO | None]:
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        yield None
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if os.fstat(handle.fileno()).st_nlink == 0:
            yield None  # another drainer finished it first
            return
        yield handle
    finally:
        handle.close()


def _rewrite(path: Path, handle: BinaryIO, lines: list[bytes]) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(b"".join(line + b"\n" for line in lines))
    handle.flush()
    os.fsync(handle.fileno())


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return time.time()
