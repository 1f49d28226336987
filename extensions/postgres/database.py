"""One statement on one named connection: read-only transactions by default, a row cap, a statement timeout.

Connections are `extensions.postgres.connections` (name -> URL; the URL is usually a secret reference, resolved
at startup). A connection opened per statement: runs are rare next to the cost of a query, and no pool can
outlive a forked worker child with a broken socket.

Safety of `query`: the transaction is started READ ONLY, and the statement runs as a server-side cursor
(`DECLARE ... CURSOR FOR`, which takes one SELECT or VALUES, sent through the extended query protocol), so
neither a second statement (`SELECT 1; COMMIT; DELETE ...`) nor a write can ride along. `execute` sends its
one statement in pipeline mode, which also uses the extended protocol. Read-only transactions still run
functions with side effects that PostgreSQL does not count as writes (`pg_terminate_backend`, `dblink`):
point read-only connections at a role that only has the privileges it needs.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any

from apps.runners.sdk import PermanentError, extension_connection, extension_settings

# SQLSTATE classes worth another attempt: connection exceptions, transaction rollbacks (serialization
# failures, deadlocks), insufficient resources, and operator intervention such as a server shutting down.
_TRANSIENT_CLASSES = ("08", "40", "53", "57P")
_CONNECT_TIMEOUT_SECONDS = 10


class ReadOnlyConnection(PermanentError):
    code = "read_only"


class SqlError(PermanentError):
    code = "sql_error"


class StatementTimeout(PermanentError):
    code = "statement_timeout"


@dataclass(frozen=True)
class Statement:
    connection: str
    sql: str
    params: list[Any] | dict[str, Any] | None
    write: bool


@dataclass(frozen=True)
class StatementResult:
    columns: list[str]
    rows: list[dict[str, Any]]
    row_count: int
    truncated: bool


def statement_run(statement: Statement) -> StatementResult:
    """Run `statement` in its own transaction (committed only for a write); see the module docstring."""
    import psycopg  # full mode's driver; imported here so lite mode still lists the extension

    configured = extension_settings("postgres")
    url = extension_connection("postgres", statement.connection)
    if statement.write and statement.connection not in configured["writable"]:
        raise ReadOnlyConnection(f"connection '{statement.connection}' is not in extensions.postgres.writable")
    timeout_ms = configured["statement_timeout_ms"]
    try:
        with psycopg.connect(url, connect_timeout=_CONNECT_TIMEOUT_SECONDS, application_name="legion-postgres",
                             options=f"-c statement_timeout={int(timeout_ms)}") as connection:
            connection.read_only = not statement.write
            with connection.transaction():
                if statement.write:
                    with connection.cursor() as cursor:
                        with connection.pipeline():
                            cursor.execute(statement.sql, _adapt(statement.params), prepare=False)
                        return _collect(cursor, configured["max_rows"], affected=max(cursor.rowcount, 0))
                # A server-side cursor: rows stream in as fetched, so a huge result never reaches memory whole.
                with connection.cursor(name="legion_query") as cursor:
                    cursor.execute(statement.sql, _adapt(statement.params))
                    return _collect(cursor, configured["max_rows"], affected=None)
    except psycopg.Error as exc:
        raise _translated(exc, statement) from exc


def _collect(cursor: Any, max_rows: int, *, affected: int | None) -> StatementResult:
    """Up to `max_rows` rows; `row_count` is rows affected for a write, rows returned for a read."""
    if cursor.description is None:  # no result set: an INSERT/UPDATE without RETURNING
        return StatementResult(columns=[], rows=[], row_count=affected or 0, truncated=False)
    columns = [column.name for column in cursor.description]
    fetched = cursor.fetchmany(max_rows + 1)
    rows = [{name: _jsonable(value) for name, value in zip(columns, row, strict=True)} for row in fetched[:max_rows]]
    return StatementResult(columns=columns, rows=rows, row_count=len(rows) if affected is None else affected,
                           truncated=len(fetched) > max_rows)


def _adapt(params: list[Any] | dict[str, Any] | None) -> Any:
    """JSON objects become jsonb parameters; lists stay lists (PostgreSQL arrays) and scalars stay scalars."""
    from psycopg.types.json import Jsonb

    if params is None:
        return None
    if isinstance(params, dict):
        return {name: Jsonb(value) if isinstance(value, dict) else value for name, value in params.items()}
    return [Jsonb(value) if isinstance(value, dict) else value for value in params]


def _jsonable(value: Any) -> Any:
    """A column value as JSON: exact decimals as strings, times in ISO 8601, bytes in base64."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network
                  | ipaddress.IPv6Network | ipaddress.IPv4Interface | ipaddress.IPv6Interface):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return str(value)


def _translated(exc: Any, statement: Statement) -> Exception:
    """Transient failures stay as they are (the run retries); everything else fails the run with a code."""
    import psycopg.errors

    state = getattr(exc, "sqlstate", None) or ""
    where = f"on '{statement.connection}'"
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return StatementTimeout(f"{where}: the statement was cancelled (statement_timeout): {_first_line(exc)}")
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return ReadOnlyConnection(f"{where}: {_first_line(exc)}; use postgres.sql.execute on a writable connection")
    if not state or state.startswith(_TRANSIENT_CLASSES):
        return exc if isinstance(exc, Exception) else RuntimeError(str(exc))
    return SqlError(f"{where}: [{state}] {_first_line(exc)}")


def _first_line(exc: Any) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
