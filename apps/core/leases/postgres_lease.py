"""A lease as a PostgreSQL session advisory lock, held on a connection of the lease's own.

PostgreSQL releases the lock the moment that connection ends, so a holder that dies frees the lease
at once; `ttl_ms` only paces renewals, which check the connection is still alive (a dead connection
means the lock is gone and the lease lost).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for a lease name (distinct from run locks, which hash run ids)."""
    return int.from_bytes(hashlib.sha256(f"legion:lease:{name}".encode()).digest()[:8], "big", signed=True)


@dataclass
class PostgresLease:
    name: str
    holder: str
    ttl_ms: int
    _connection: Any = field(default=None, repr=False)

    def acquire(self) -> bool:
        if self._connection is not None:
            return self.renew()
        try:
            raw = self._connect()
            with raw.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [advisory_key(self.name)])
                acquired = bool(cursor.fetchone()[0])
        except Exception as exc:  # noqa: BLE001 - any driver error: we do not hold the lease
            logger.warning("lease %s: PostgreSQL unavailable (%s); not leading", self.name, exc)
            self._drop()
            return False
        if acquired:
            self._connection = raw
        else:
            raw.close()
        return acquired

    def renew(self) -> bool:
        if self._connection is None:
            return False
        try:
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - the connection is gone, and the lock with it
            logger.warning("lease %s: lock connection lost (%s)", self.name, exc)
            self._drop()
            return False
        return True

    def release(self) -> None:
        self._drop()  # closing the session releases its advisory locks

    def _connect(self) -> Any:
        wrapper = connections["default"]
        if wrapper.vendor != "postgresql":
            raise DatabaseError("the postgres lease backend needs PostgreSQL")
        raw = wrapper.get_new_connection(wrapper.get_connection_params())
        raw.autocommit = True
        return raw

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # noqa: BLE001 - already closed or broken
                pass
            self._connection = None
