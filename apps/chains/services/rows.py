"""The two writes on a run's hot path, one statement each: claiming a run, and finishing it with its children.

A chain step is a claim, the function and a finish. On a small machine a database round trip costs a
good part of what a whole bare Celery step does, so neither write may take more than one: the claim is
a conditional `UPDATE … RETURNING` (no read, no lock, no transaction), and on PostgreSQL the finish and
the children's insert are one statement whose insert only happens if the update matched. The ORM would
need BEGIN, a locking read, UPDATE, INSERT and COMMIT. SQLite (lite mode, one worker) cannot modify
data in a `WITH` clause; there the finish is an ordinary transaction with the same guard.

Durability: unless `chains.step_writes_synchronous` is set, both statements commit without waiting for
PostgreSQL to flush them to disk (`synchronous_commit` off for that statement alone; half the cost of
a write). A database crash can then forget the last moments of claims and finishes, never half of one
and never anything else: the forgotten runs are back to queued or running-without-a-holder, which the
run sweeper (services/sweep.py) publishes again, and their functions run again under the same
idempotency keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field

from apps.chains.models import RunStatus, TaskRun

# Replays of a delayed message that lost its ETA come this early at most before being sent back to wait.
EARLY_TOLERANCE = timedelta(seconds=1)

_TABLE = f'"{TaskRun._meta.db_table}"'  # quoted alike on PostgreSQL and SQLite
# What a claimed run's execution reads: its function, payload, attempt, and what its children copy. In the
# model's field order, which `Model.from_db` expects of a partial row.
_CLAIMED_FIELDS = tuple(field.name for field in TaskRun._meta.concrete_fields if field.name in {
    "id", "function", "chain", "chain_version", "root", "idempotency_key", "payload", "log", "attempts",
    "max_attempts", "deliveries", "lost_deliveries", "principal", "status", "holder", "started_at"})


def run_claim(*, run_id: str, holder: int, now: datetime) -> TaskRun | None:
    """Mark the run `running` for `holder` and return it (its `_CLAIMED_FIELDS`), if it is queued and due.

    None covers every other case (missing, finished, running elsewhere, early); the caller reads the
    row to tell them apart, which only a duplicate, a replay or a redelivery ever costs.
    """
    durability, durability_params = _durability()
    sql = (
        f'UPDATE {_TABLE} SET "status" = %s, "attempts" = "attempts" + 1, "deliveries" = "deliveries" + 1, '
        f'"started_at" = %s, "not_before" = NULL, "holder" = %s{durability} '
        f'WHERE "id" = %s AND "status" = %s AND ("not_before" IS NULL OR "not_before" <= %s) '
        f'RETURNING {", ".join(_column(name) for name in _CLAIMED_FIELDS)}'
    )
    params = [RunStatus.RUNNING, _prep("started_at", now), holder, *durability_params, _prep("id", run_id),
              RunStatus.QUEUED, _prep("not_before", now + EARLY_TOLERANCE)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = [value if not converters else _convert(value, column, converters)
              for value, (column, converters) in zip(row, _converters(connection.vendor), strict=True)]
    return TaskRun.from_db(connection.alias, [_field(name).attname for name in _CLAIMED_FIELDS], values)


def run_finish(*, run: TaskRun, changes: dict[str, Any], children: Sequence[TaskRun] = ()) -> bool:
    """Apply `changes` and insert `children`, both or neither, if the delivery that claimed `run` still owns it.

    Ownership is the run still `running` at the attempt this delivery claimed: a delivery that was
    taken for dead and replaced (its run reclaimed, so `attempts` moved on) finishes nothing.
    """
    if connection.vendor == "postgresql":
        finished = _finish_postgresql(run, changes, children)
    else:
        with transaction.atomic():
            owned = TaskRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts)
            finished = owned.update(**changes) == 1
            if finished:
                TaskRun.objects.bulk_create(children)
    if finished:
        for name, value in changes.items():
            setattr(run, name, value)
    return finished


def _finish_postgresql(run: TaskRun, changes: dict[str, Any], children: Sequence[TaskRun]) -> bool:
    durability, durability_params = _durability()
    assignments = ", ".join(f"{_column(name)} = %s" for name in changes)
    params = [_prep(name, value, save=True) for name, value in changes.items()]
    params += [*durability_params, _prep("id", run.pk), RunStatus.RUNNING, run.attempts]
    sql = (f'WITH finished AS (UPDATE {_TABLE} SET {assignments}{durability} '
           f'WHERE "id" = %s AND "status" = %s AND "attempts" = %s RETURNING 1)')
    if children:
        fields = TaskRun._meta.concrete_fields
        sql += (f', inserted AS (INSERT INTO {_TABLE} ({_insert_columns()}) '
                f'SELECT * FROM (VALUES {", ".join([_insert_row()] * len(children))}) AS child '
                f'WHERE EXISTS (SELECT 1 FROM finished) RETURNING 1)')
        for child in children:
            params += [field.get_db_prep_save(field.pre_save(child, True), connection) for field in fields]
    sql += " SELECT count(*) FROM finished"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        finished = bool(cursor.fetchone()[0])
    if finished:
        for child in children:
            child._state.adding, child._state.db = False, connection.alias
    return finished


def _durability() -> tuple[str, list[Any]]:
    """A `FROM` item that sets this statement's `synchronous_commit` (PostgreSQL), and its parameters.

    Only for a statement that is its own transaction: inside a caller's transaction the setting would
    last until that one ends, and its other writes are not ours to make less durable.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return "", []
    wait = "on" if settings.CONFIG["chains.step_writes_synchronous"] else "off"
    return " FROM (SELECT set_config('synchronous_commit', %s, true)) AS durability", [wait]


@cache
def _insert_columns() -> str:
    return ", ".join(_column(field.name) for field in TaskRun._meta.concrete_fields)


@cache
def _insert_row() -> str:
    # Typed placeholders: the VALUES list is a subquery here, where PostgreSQL cannot take column types
    # from the target table as it would for a plain INSERT … VALUES.
    return "(" + ", ".join(f"%s::{field.db_type(connection)}" for field in TaskRun._meta.concrete_fields) + ")"


@cache
def _converters(vendor: str) -> list[tuple[Any, list[Any]]]:
    """Per claimed column, the converters Django applies when it reads it (JSON; UUIDs and times on SQLite)."""
    found = []
    for name in _CLAIMED_FIELDS:
        field = _field(name)
        column = field.get_col(TaskRun._meta.db_table)
        converters = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]  # type: ignore[attr-defined]  # in Django, not its stubs
        found.append((column, converters))
    return found


def _convert(value: Any, column: Any, converters: list[Any]) -> Any:
    for converter in converters:
        value = converter(value, column, connection)
    return value


@cache
def _field(name: str) -> Field[Any, Any]:
    return TaskRun._meta.get_field(name)  # type: ignore[return-value]


def _column(name: str) -> str:
    return f'"{_field(name).column}"'


def _prep(name: str, value: Any, *, save: bool = False) -> Any:
    field = _field(name)
    return field.get_db_prep_save(value, connection) if save else field.get_db_prep_value(value, connection)
