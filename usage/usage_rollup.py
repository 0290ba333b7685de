"""Daily rollups: built by adding each batch's deltas, never by a per-request UPDATE.

A hot counter row updated once per request serialises every worker on that row (and deadlocks
them when two batches touch rows in different orders). Instead a batch is summed in memory per
(day, tenant, key, model) cell and added with ONE ``INSERT … ON CONFLICT DO UPDATE SET x = x +
EXCLUDED.x`` whose rows are sorted, so concurrent writers lock cells in the same order. The
same statement shape, fed by a ``SELECT … GROUP BY`` over the records, rebuilds rollups.
PostgreSQL and SQLite (≥ 3.24) both speak this upsert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, Max, Min

from usage.models import (
    ROLLUP_COUNTERS,
    TOKEN_FIELDS,
    Outcome,
    UsageRecord,
    UsageRollup,
)

CELL_FIELDS = ("day", "tenant_id", "api_key_id", "model")
NAME_FIELDS = ("tenant_name", "key_name", "key_prefix")
ERROR_OUTCOMES = (Outcome.FAILED.value, Outcome.REJECTED.value)


@dataclass(frozen=True, slots=True, order=True)
class RollupCell:
    day: date
    tenant_id: int
    api_key_id: int
    model: str


@dataclass(slots=True)
class RollupDelta:
    """What one batch adds to one cell; ``counters`` follow ``ROLLUP_COUNTERS``."""

    cell: RollupCell
    names: tuple[str, str, str]
    counters: list[int]


def rollup_deltas(records: Iterable[UsageRecord]) -> list[RollupDelta]:
    """The batch summed per cell, sorted by cell (the lock order every writer shares)."""
    deltas: dict[RollupCell, RollupDelta] = {}
    for record in records:
        cell = RollupCell(record.day, record.tenant_id, record.api_key_id, record.model)
        delta = deltas.get(cell)
        if delta is None:
            delta = deltas[cell] = RollupDelta(cell, ("", "", ""), [0] * len(ROLLUP_COUNTERS))
        if record.tenant_name or record.key_name or record.key_prefix:
            delta.names = (record.tenant_name, record.key_name, record.key_prefix)
        for index, value in enumerate(_record_counters(record)):
            delta.counters[index] += value
    return [deltas[cell] for cell in sorted(deltas)]


def _record_counters(record: UsageRecord) -> tuple[int, ...]:
    return (
        1,
        1 if record.outcome in ERROR_OUTCOMES else 0,
        0 if record.prompt_tokens_known else 1,
        *(getattr(record, name) for name in TOKEN_FIELDS),
    )


def upsert_rollup_deltas(cursor: CursorWrapper, deltas: Sequence[RollupDelta]) -> None:
    """Add ``deltas`` to their cells: one statement (per chunk the backend's limit allows)."""
    if not deltas:
        return
    fields = _rollup_fields()
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    chunk_size = max(1, connection.ops.bulk_batch_size(fields, deltas))
    for start in range(0, len(deltas), chunk_size):
        chunk = deltas[start : start + chunk_size]
        params: list[Any] = []
        for delta in chunk:
            cell = delta.cell
            values = (cell.day, cell.tenant_id, cell.api_key_id, cell.model, *delta.names, *delta.counters)
            params += [field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)]
        cursor.execute(
            f"INSERT INTO {_table()} ({_columns(fields)}) VALUES {', '.join([row] * len(chunk))} " + _on_conflict_add(),
            params,
        )


def add_rollups_from_records(cursor: CursorWrapper, where: str, params: Sequence[Any]) -> None:
    """Add the records matching ``where`` (SQL over the records table) to their cells."""
    qn = connection.ops.quote_name
    names = ", ".join(f"MAX({qn(name)})" for name in NAME_FIELDS)
    token_sums = ", ".join(f"SUM({qn(name)})" for name in TOKEN_FIELDS)
    cell_columns = ", ".join(qn(name) for name in CELL_FIELDS)
    fields = _rollup_fields()
    cursor.execute(
        f"INSERT INTO {_table()} ({_columns(fields)}) "
        f"SELECT {cell_columns}, {names}, COUNT(*), "
        f"SUM(CASE WHEN {qn('outcome')} IN (%s, %s) THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {qn('prompt_tokens_known')} THEN 0 ELSE 1 END), {token_sums} "
        f"FROM {qn(UsageRecord._meta.db_table)} WHERE {where} GROUP BY {cell_columns} "
        # SQLite needs the WHERE above to parse an upsert fed by a SELECT; ORDER BY keeps the
        # lock order of concurrent writers.
        f"ORDER BY {cell_columns} " + _on_conflict_add(),
        [*ERROR_OUTCOMES, *params],
    )


def rebuild_usage_rollups(*, since: date | None = None, until: date | None = None) -> int:
    """Recompute the cells of ``since``..``until`` (inclusive) from the records; returns cells.

    Only days that still have records are rebuilt, whatever the range asks: days older than
    the oldest record were pruned, and their rollups are the only totals left (rebuilding them
    from no records would erase them). Days after the newest record keep their cells too.
    """
    bounds = UsageRecord.objects.aggregate(first=Min("day"), last=Max("day"))
    if bounds["first"] is None:
        return 0
    since = max(since or bounds["first"], bounds["first"])
    until = min(until or bounds["last"], bounds["last"])
    if since > until:
        return 0
    day_field = UsageRollup._meta.get_field("day")
    day_range = [day_field.get_db_prep_save(since, connection), day_field.get_db_prep_save(until, connection)]
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Writers add deltas for records they inserted in the same transaction; holding the
            # rollup table until commit orders every writer either before our SELECT (its
            # records are counted here) or after our commit (it adds to the rebuilt cells).
            cursor.execute(f"LOCK TABLE {_table()} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {_table()} WHERE {qn('day')} BETWEEN %s AND %s", day_range)
        add_rollups_from_records(cursor, f"{qn('day')} BETWEEN %s AND %s", day_range)
    return UsageRollup.objects.filter(day__range=(since, until)).count()


def _rollup_fields() -> list[Field[Any, Any]]:
    """The rollup's columns in the order the upserts write them."""
    by_name = {field.name: field for field in UsageRollup._meta.concrete_fields}
    return [by_name[name] for name in (*CELL_FIELDS, *NAME_FIELDS, *ROLLUP_COUNTERS)]


def _table() -> str:
    return connection.ops.quote_name(UsageRollup._meta.db_table)


def _columns(fields: Sequence[Any]) -> str:
    return ", ".join(connection.ops.quote_name(field.column) for field in fields)


def _on_conflict_add() -> str:
    qn = connection.ops.quote_name
    table = _table()
    keep_names = ", ".join(
        f"{qn(name)} = CASE WHEN EXCLUDED.{qn(name)} <> '' THEN EXCLUDED.{qn(name)} ELSE {table}.{qn(name)} END"
        for name in NAME_FIELDS
    )
    add_counters = ", ".join(f"{qn(name)} = {table}.{qn(name)} + EXCLUDED.{qn(name)}" for name in ROLLUP_COUNTERS)
    cell = ", ".join(qn(name) for name in CELL_FIELDS)
    return f"ON CONFLICT ({cell}) DO UPDATE SET {keep_names}, {add_counters}"
