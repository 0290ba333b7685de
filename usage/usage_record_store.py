"""Writes one batch of usage drafts: records and their rollup deltas in one transaction.

Exactly once: a record's ``request_id`` is unique and the insert skips ids already stored
(``ON CONFLICT DO NOTHING … RETURNING``), and only the rows that were really inserted add to
the rollups. So a batch retried after an ambiguous failure, or replayed from the crash journal,
never counts twice, and records and rollups always agree (same transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, CharField, DateTimeField, F, Q, Value, When
from django.utils import timezone

from accounts.models import ApiKey, Tenant
from foundation.compact_json import compact_json
from usage.models import UsageRecord
from usage.usage_record_draft import UsageRecordDraft
from usage.usage_rollup import rollup_deltas, upsert_rollup_deltas


@dataclass(frozen=True, slots=True)
class StoredBatch:
    inserted: int
    duplicates: int


# What the usage writer commits its batches with (this module's ``store_usage_batch``, or a test's).
StoreBatch = Callable[[Sequence[UsageRecordDraft]], Any]


def store_usage_batch(drafts: Sequence[UsageRecordDraft]) -> StoredBatch:
    """Insert ``drafts`` (skipping stored ids), add them to the rollups, touch the keys."""
    records = [record_from_draft(draft) for draft in _unique(drafts)]
    if not records:
        return StoredBatch(0, 0)
    _fill_missing_names(records)
    with transaction.atomic(), connection.cursor() as cursor:
        inserted_ids = _insert_records(cursor, records)
        inserted = [record for record in records if record.request_id in inserted_ids]
        upsert_rollup_deltas(cursor, rollup_deltas(inserted))
    # Outside the records' transaction: a key row is shared by every worker, so it is
    # updated once per batch, in its own short statement, and never holds up the records.
    # Every record of the batch, not only the new ones: when this fails, the writer retries
    # a batch already stored, and the touch only ever moves forward.
    _touch_keys(records)
    return StoredBatch(len(inserted), len(drafts) - len(inserted))


def record_from_draft(draft: UsageRecordDraft) -> UsageRecord:
    tokens = draft.tokens
    record = UsageRecord(
        request_id=draft.request_id,
        tenant_id=draft.tenant_id,
        tenant_name=draft.tenant_name,
        api_key_id=draft.api_key_id,
        key_name=draft.key_name,
        key_prefix=draft.key_prefix,
        endpoint=draft.endpoint,
        model=draft.model,
        upstream=draft.upstream,
        paddler_request_id=draft.paddler_request_id,
        generated_by=draft.generated_by,
        streamed=draft.streamed,
        started_at=draft.started_at,
        day=timezone.localdate(draft.started_at),
        time_to_first_token_ms=draft.time_to_first_token_ms,
        duration_ms=max(draft.duration_ms, 0),
        outcome=draft.outcome,
        http_status=draft.http_status,
        error_class=draft.error_class,
        usage_source=draft.usage_source,
        # Unknown prompt tokens are stored as 0 and flagged (prompt_tokens_known), unless the
        # meter estimated them at admission (flagged too): what the budget was charged.
        prompt_tokens_known=draft.prompt_tokens_known,
        prompt_tokens_estimated=draft.prompt_tokens_estimated and not draft.prompt_tokens_known,
        prompt_tokens=tokens.prompt_tokens if draft.prompt_tokens_known or draft.prompt_tokens_estimated else 0,
        cached_prompt_tokens=tokens.cached_prompt_tokens,
        input_image_tokens=tokens.input_image_tokens,
        content_tokens=tokens.content_tokens,
        reasoning_tokens=tokens.reasoning_tokens,
        tool_call_tokens=tokens.tool_call_tokens,
        undeterminable_tokens=tokens.undeterminable_tokens,
        completion_tokens=tokens.completion_tokens,
    )
    _fit_to_columns(record)
    return record


def _fit_to_columns(record: UsageRecord) -> None:
    """Cut text to its column: some of it comes from clients (a rejected request's model
    name) and PostgreSQL refuses an over-long value, which would fail the whole batch on
    every retry and hold up every record behind it."""
    for field in UsageRecord._meta.concrete_fields:
        if isinstance(field, CharField) and field.max_length is not None:
            setattr(record, field.attname, getattr(record, field.attname)[: field.max_length])


def _unique(drafts: Iterable[UsageRecordDraft]) -> list[UsageRecordDraft]:
    """One draft per request id (the first): a journal replay may repeat one."""
    seen: dict[str, UsageRecordDraft] = {}
    for draft in drafts:
        seen.setdefault(draft.request_id, draft)
    return list(seen.values())


def _insert_records(cursor: Any, records: Sequence[UsageRecord]) -> set[str]:
    """INSERT … ON CONFLICT (request_id) DO NOTHING RETURNING request_id: the ids now new."""
    if not connection.features.can_return_columns_from_insert:
        raise RuntimeError("usage records need INSERT … RETURNING (PostgreSQL, or SQLite ≥ 3.35)")
    qn = connection.ops.quote_name
    fields = [field for field in UsageRecord._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(qn(field.column) for field in fields)  # type: ignore[arg-type]  # a concrete field has a column
    if connection.vendor == "postgresql":
        return _insert_columns(cursor, records, fields, columns)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    chunk_size = max(1, connection.ops.bulk_batch_size(fields, records))
    inserted: set[str] = set()
    for start in range(0, len(records), chunk_size):
        chunk = records[start : start + chunk_size]
        params = [
            field.get_db_prep_save(field.pre_save(record, True), connection) for record in chunk for field in fields
        ]
        cursor.execute(
            f"INSERT INTO {qn(UsageRecord._meta.db_table)} ({columns}) "
            f"VALUES {', '.join([row] * len(chunk))} "
            f"ON CONFLICT ({qn('request_id')}) DO NOTHING RETURNING {qn('request_id')}",
            params,
        )
        inserted.update(row_[0] for row_ in cursor.fetchall())
    return inserted


def _insert_columns(cursor: Any, records: Sequence[UsageRecord], fields: list[Any], columns: str) -> set[str]:
    """PostgreSQL: the batch as one JSON text parameter, a record per array, each value cast to
    its column's type. The statement's text never depends on the batch size, so psycopg parses
    it once per process; one string is escaped in C, where an array per column went through
    psycopg's Python list dumpers (a third of the usage writer's CPU)."""
    qn = connection.ops.quote_name
    values = ", ".join(f"(record->>{index})::{field.db_type(connection)}" for index, field in enumerate(fields))
    batch = compact_json([[_json_value(getattr(record, field.attname)) for field in fields] for record in records])
    cursor.execute(
        f"INSERT INTO {qn(UsageRecord._meta.db_table)} ({columns}) "
        f"SELECT {values} FROM jsonb_array_elements(%s::jsonb) AS record "
        f"ON CONFLICT ({qn('request_id')}) DO NOTHING RETURNING {qn('request_id')}",
        [batch],
    )
    return {row[0] for row in cursor.fetchall()}


def _json_value(value: Any) -> Any:
    """A column's value as JSON the cast reads back: dates and times in ISO 8601 (aware times
    keep their offset), the rest (text, integers, booleans, null) as they are."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def _fill_missing_names(records: Sequence[UsageRecord]) -> None:
    """Look up names the meter did not carry: one query per table, only when needed."""
    tenant_ids = {record.tenant_id for record in records if not record.tenant_name}
    key_ids = {record.api_key_id for record in records if not (record.key_name and record.key_prefix)}
    tenants = dict(Tenant.objects.filter(pk__in=tenant_ids).values_list("pk", "name")) if tenant_ids else {}
    keys = (
        {
            pk: (name, prefix)
            for pk, name, prefix in ApiKey.objects.filter(pk__in=key_ids).values_list("pk", "name", "prefix")
        }
        if key_ids
        else {}
    )
    for record in records:
        if not record.tenant_name:
            record.tenant_name = tenants.get(record.tenant_id, "")
        if record.api_key_id in keys and not (record.key_name and record.key_prefix):
            record.key_name, record.key_prefix = keys[record.api_key_id]


def _touch_keys(records: Sequence[UsageRecord]) -> None:
    """ApiKey.last_used_at = the latest end of a request of each key: one UPDATE per batch."""
    last_used: dict[int, datetime] = {}
    for record in records:
        ended = record.started_at + timedelta(milliseconds=record.duration_ms)
        previous = last_used.get(record.api_key_id)
        if previous is None or ended > previous:
            last_used[record.api_key_id] = ended
    if not last_used:
        return
    newer = [
        When(Q(pk=pk) & (Q(last_used_at__isnull=True) | Q(last_used_at__lt=at)), then=Value(at))
        for pk, at in sorted(last_used.items())
    ]
    ApiKey.objects.filter(pk__in=sorted(last_used)).update(
        last_used_at=Case(*newer, default=F("last_used_at"), output_field=DateTimeField())
    )
