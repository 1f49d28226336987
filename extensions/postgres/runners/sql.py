"""One parameterised SQL statement on a named connection: `query` reads, `execute` writes (on writable ones only).

Two functions rather than a flag, so RBAC can let a principal read (`runners/postgres/sql/query`) without
letting it write (`runners/postgres/sql/execute`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from apps.runners.sdk import RunContext, runner_function
from extensions.postgres.database import Statement, statement_run

TRIGGER_WORDS = ("sql", "query", "select", "insert", "update", "database")

ConnectionName = Annotated[str, Field(min_length=1, max_length=100)]
Sql = Annotated[str, Field(min_length=1, max_length=100_000)]
Params = list[Any] | dict[str, Any] | None


class QueryResult(TypedDict):
    columns: list[str]
    rows: list[dict[str, Any]]
    row_count: int
    truncated: bool


@runner_function(idempotent=True, risk_tier="standard", trigger_words=("query", "select", "read"),
                 max_attempts=3, backoff_seconds=1.0)
def query(connection: ConnectionName, sql: Sql, ctx: RunContext, params: Params = None) -> QueryResult:
    """Run a statement in a READ ONLY transaction; `%s` placeholders take `params` as a list, `%(name)s` as an object.

    Returns at most `extensions.postgres.max_rows` rows (`truncated` says whether there were more).
    Lost connections, serialization failures and deadlocks are retried; SQL errors are not.
    """
    result = statement_run(Statement(connection=connection, sql=sql, params=params, write=False))
    ctx.log(f"query on {connection}: {result.row_count} row(s)")
    return {"columns": result.columns, "rows": result.rows, "row_count": result.row_count,
            "truncated": result.truncated}


@runner_function(idempotent=False, risk_tier="critical", trigger_words=("execute", "insert", "update", "delete"))
def execute(connection: ConnectionName, sql: Sql, ctx: RunContext, params: Params = None) -> QueryResult:
    """Run a writing statement in its own transaction, committed when it succeeds; only on connections listed in
    `extensions.postgres.writable`. `row_count` is the number of rows affected; `rows` what RETURNING gave."""
    result = statement_run(Statement(connection=connection, sql=sql, params=params, write=True))
    ctx.log(f"execute on {connection}: {result.row_count} row(s) affected")
    return {"columns": result.columns, "rows": result.rows, "row_count": result.row_count,
            "truncated": result.truncated}
