"""A lease as an exclusive `flock` on a file: one holder per machine, freed when the holder's process dies.

Lite mode runs every process on one machine without Redis; the kernel releases the lock with the
process, so no ttl is needed (`ttl_ms` only paces renewals).
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class FileLease:
    name: str
    holder: str
    ttl_ms: int
    directory: Path
    _fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / f"{self.name.replace('/', '_')}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, self.holder.encode())
        self._fd = fd
        return True

    def renew(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
