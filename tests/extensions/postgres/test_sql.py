"""The postgres extension on the suite's real PostgreSQL, in a schema of its own: reads, guarded writes, limits."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from apps.chains.models import RunStatus, TaskRun
from apps.core.config.loader import config_load
from tests.extensions.conftest import principal_with
from tests.support import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]


@pytest.fixture
def database(db: None, config: Callable[[str, Any], None]) -> Iterator[tuple[str, str]]:
    """(conninfo of the test database, a fresh schema in it with an `items` table); declared as connection `main`."""
    from django.db import connection

    info = connection.settings_dict
    conninfo = make_conninfo(dbname=info["NAME"], user=info["USER"] or None, password=info["PASSWORD"] or None,
                             host=info["HOST"] or None, port=str(info["PORT"]) if info["PORT"] else None)
    schema = f"ext_pg_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        admin.execute(f"CREATE TABLE {schema}.items (id serial PRIMARY KEY, name text NOT NULL, price numeric(10, 2),"
                      f" tags text[], meta jsonb, added date)")
        admin.execute(f"INSERT INTO {schema}.items (name, price, tags, meta, added) VALUES"
                      f" ('bolt', 0.25, ARRAY['metal'], '{{\"size\": 8}}', '2026-01-02'),"
                      f" ('nut', 0.10, ARRAY['metal', 'small'], NULL, '2026-01-03'),"
                      f" ('washer', 0.05, '{{}}', NULL, NULL)")
    config("extensions.postgres.connections", {"main": conninfo, "rw": conninfo})
    config("extensions.postgres.writable", ["rw"])
    try:
        yield conninfo, schema
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def operator(db: None) -> Any:
    return principal_with("ops", "operator")


def names(conninfo: str, schema: str) -> list[str]:
    with psycopg.connect(conninfo) as check:
        return [row[0] for row in check.execute(f"SELECT name FROM {schema}.items ORDER BY id").fetchall()]


def test_a_query_returns_rows_as_json(runner: Callable[..., TaskRun], database: tuple[str, str], operator: Any) -> None:
    _, schema = database
    run = runner("postgres.sql.query", {
        "connection": "main", "params": [0.2],
        "sql": f"SELECT name, price, tags, meta, added FROM {schema}.items WHERE price > %s ORDER BY id",
    }, operator)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.result == {
        "columns": ["name", "price", "tags", "meta", "added"],
        "rows": [{"name": "bolt", "price": "0.25", "tags": ["metal"], "meta": {"size": 8}, "added": "2026-01-02"}],
        "row_count": 1, "truncated": False,
    }


def test_named_parameters_and_json_parameters(runner: Callable[..., TaskRun], database: tuple[str, str],
                                              operator: Any) -> None:
    _, schema = database
    run = runner("postgres.sql.query", {
        "connection": "main", "params": {"tag": "small", "filter": {"size": 8}},
        "sql": f"SELECT name FROM {schema}.items WHERE %(tag)s = ANY(tags) OR meta @> %(filter)s ORDER BY id",
    }, operator)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.result is not None and [row["name"] for row in run.result["rows"]] == ["bolt", "nut"]


def test_rows_beyond_the_limit_are_cut_and_flagged(runner: Callable[..., TaskRun], database: tuple[str, str],
                                                   operator: Any, config: Callable[[str, Any], None]) -> None:
    config("extensions.postgres.max_rows", 2)
    run = runner("postgres.sql.query", {"connection": "main",
                                        "sql": "SELECT g FROM generate_series(1, 1000000) AS g"}, operator)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.result == {"columns": ["g"], "rows": [{"g": 1}, {"g": 2}], "row_count": 2, "truncated": True}


@pytest.mark.parametrize(("sql", "code"), [
    ("DELETE FROM {schema}.items", "sql_error"),
    ("WITH gone AS (DELETE FROM {schema}.items RETURNING *) SELECT * FROM gone", "sql_error"),
    ("SELECT 1; COMMIT; DELETE FROM {schema}.items", "sql_error"),
    ("SELECT nextval('{schema}.items_id_seq')", "read_only"),
    ("SELECT * FROM {schema}.items FOR UPDATE", "read_only"),
])
def test_a_query_cannot_write(runner: Callable[..., TaskRun], database: tuple[str, str], operator: Any,
                              sql: str, code: str) -> None:
    conninfo, schema = database
    run = runner("postgres.sql.query", {"connection": "main", "sql": sql.format(schema=schema)}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == code, run.error
    assert names(conninfo, schema) == ["bolt", "nut", "washer"]


def test_execute_refuses_a_connection_that_is_not_writable(runner: Callable[..., TaskRun],
                                                           database: tuple[str, str], operator: Any) -> None:
    conninfo, schema = database
    run = runner("postgres.sql.execute", {"connection": "main", "sql": f"DELETE FROM {schema}.items"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "read_only"
    assert names(conninfo, schema) == ["bolt", "nut", "washer"]


def test_execute_writes_on_a_writable_connection_and_commits(runner: Callable[..., TaskRun],
                                                             database: tuple[str, str], operator: Any) -> None:
    conninfo, schema = database
    inserted = runner("postgres.sql.execute", {
        "connection": "rw", "params": ["screw", ["metal"]],
        "sql": f"INSERT INTO {schema}.items (name, tags) VALUES (%s, %s) RETURNING id, name",
    }, operator)
    updated = runner("postgres.sql.execute", {
        "connection": "rw", "params": [0.5], "sql": f"UPDATE {schema}.items SET price = %s WHERE price < 0.2",
    }, operator)

    assert inserted.status == RunStatus.SUCCEEDED, inserted.error
    assert inserted.result is not None and inserted.result["rows"] == [{"id": 4, "name": "screw"}]
    assert updated.status == RunStatus.SUCCEEDED and updated.result is not None
    assert updated.result["row_count"] == 2 and updated.result["rows"] == []
    assert names(conninfo, schema) == ["bolt", "nut", "washer", "screw"]


def test_execute_takes_one_statement_only(runner: Callable[..., TaskRun], database: tuple[str, str],
                                          operator: Any) -> None:
    conninfo, schema = database
    run = runner("postgres.sql.execute", {
        "connection": "rw",
        "sql": f"INSERT INTO {schema}.items (name) VALUES ('a'); DELETE FROM {schema}.items",
    }, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "sql_error"
    assert names(conninfo, schema) == ["bolt", "nut", "washer"]


def test_a_slow_statement_is_cancelled_at_the_timeout(runner: Callable[..., TaskRun], database: tuple[str, str],
                                                      operator: Any, config: Callable[[str, Any], None]) -> None:
    config("extensions.postgres.statement_timeout_ms", 200)
    run = runner("postgres.sql.query", {"connection": "main", "sql": "SELECT pg_sleep(5)"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "statement_timeout"


def test_an_unknown_connection_is_refused(runner: Callable[..., TaskRun], database: tuple[str, str],
                                          operator: Any) -> None:
    run = runner("postgres.sql.query", {"connection": "nope", "sql": "SELECT 1"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "unknown_connection"


def test_an_unreachable_server_is_retried(runner: Callable[..., TaskRun], operator: Any,
                                          config: Callable[[str, Any], None]) -> None:
    config("extensions.postgres.connections", {"down": f"postgresql://nobody@127.0.0.1:{free_port()}/x"})
    run = runner("postgres.sql.query", {"connection": "down", "sql": "SELECT 1"}, operator)
    assert run.status == RunStatus.QUEUED and run.error is not None and run.error["code"] == "function_error"
    assert "nobody" in run.error["message"] or "connect" in run.error["message"].lower()


def test_connections_are_secret_references_resolved_at_startup(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALYTICS_DATABASE_URL", "postgresql://reader:pw@db.internal/analytics")
    config = config_load({"LEGION_MODE": "lite", "LEGION_HOME": str(tmp_path), "LEGION_SETTINGS_FILE": "",
                          "LEGION_ENV_FILE": "",
                          "LEGION_EXTENSIONS_POSTGRES_CONNECTIONS": '{"analytics": "env://ANALYTICS_DATABASE_URL"}'})
    assert config["extensions.postgres.connections"] == {"analytics": "postgresql://reader:pw@db.internal/analytics"}
    assert ("extensions.postgres.connections", "(set)") in [(key, shown) for key, shown, _ in config.describe()]
