"""Stored responses: save, read, list input items, delete, purge — always within one tenant.

Synchronous ORM services; the async API path calls them through
``channels.db.database_sync_to_async`` (which also closes stale connections). A response older
than ``OARLOCK_RESPONSES_RETENTION_DAYS`` is gone for every reader even before the purge command
deletes its row, so retention holds whether or not the command runs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import JSONField, QuerySet
from django.utils import timezone

from compat_api.errors import InvalidRequest, NotFoundError
from compat_api.models import StoredResponse
from foundation.compact_json import compact_json

ListOrder = Literal["asc", "desc"]

# The columns a new row fills, in this order (the one timestamp of a batch last).
_STORED_FIELDS = ("id", "tenant", "model", "status", "response", "input_items", "created_at")


@dataclass(frozen=True, slots=True)
class InputItemPage:
    items: tuple[Mapping[str, Any], ...]
    has_more: bool


@dataclass(frozen=True, slots=True)
class ResponseToStore:
    tenant_id: int
    response: Mapping[str, Any]
    input_items: Sequence[Mapping[str, Any]]
    # ``response`` as the stream already serialised it for its terminal event (not again here).
    response_json: str | None = None


def save_response(
    *,
    tenant_id: int,
    response: Mapping[str, Any],
    input_items: Sequence[Mapping[str, Any]],
) -> None:
    save_responses([ResponseToStore(tenant_id, response, input_items)])


def save_responses(rows: Sequence[ResponseToStore]) -> None:
    """Store many responses in one statement (the response writer's batches).

    Raw SQL, not ``bulk_create``: Django compiled a new multi-row INSERT for every batch and
    serialised the response again, which was most of the writer thread's CPU. The JSON goes in
    as text, in the compact form the client was sent: PostgreSQL parses it into ``jsonb``,
    SQLite keeps the text, and ``JSONField`` reads either back the same."""
    if not rows:
        return
    created_at = StoredResponse.created_at.field.get_db_prep_save(timezone.now(), connection)
    ids = [row.response["id"] for row in rows]
    tenant_ids = [row.tenant_id for row in rows]
    models = [row.response["model"] for row in rows]
    statuses = [row.response["status"] for row in rows]
    responses = [compact_json(row.response) if row.response_json is None else row.response_json for row in rows]
    input_items = [compact_json(list(row.input_items)) for row in rows]
    sql = _insert_sql(connection.vendor)
    if connection.vendor == "postgresql":
        # The whole batch as one JSON text parameter, a row per array: psycopg escapes one
        # string in C, where arrays of ids, tenants, models and statuses went through its
        # Python list dumpers (most of the writer thread's CPU per row). The documents are
        # spliced in as the text they already are.
        batch = ",".join(
            f"[{compact_json(row_id)},{tenant_id},{compact_json(model)},{compact_json(status)},{response},{items}]"
            for row_id, tenant_id, model, status, response, items in zip(
                ids, tenant_ids, models, statuses, responses, input_items, strict=True
            )
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [created_at, f"[{batch}]"])
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [(*row, created_at) for row in zip(ids, tenant_ids, models, statuses, responses, input_items, strict=True)],
        )


@functools.cache
def _insert_sql(vendor: str) -> str:
    """The INSERT of ``save_responses``: its text never depends on the batch size, so the
    driver parses it once per process. PostgreSQL: the rows of one JSON array parameter, a single
    statement, hence a single transaction in autocommit, with no BEGIN/COMMIT around it."""
    by_name = {field.name: field for field in StoredResponse._meta.concrete_fields}
    fields: list[Any] = [by_name[name] for name in _STORED_FIELDS]
    table = connection.ops.quote_name(StoredResponse._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    if vendor != "postgresql":
        return f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    # Each row of the batch is a JSON array: JSON columns taken as they are, the others as text
    # cast to their column's type.
    values = ", ".join(
        f"batch_row->{index}" if isinstance(field, JSONField) else f"(batch_row->>{index})::{field.db_type(connection)}"
        for index, field in enumerate(fields[:-1])
    )
    # The batch's one created_at: the first parameter, the last column.
    return f"INSERT INTO {table} ({columns}) SELECT {values}, %s FROM jsonb_array_elements(%s::jsonb) AS batch_row"


def get_response(*, tenant_id: int, response_id: str) -> Mapping[str, Any]:
    return _find(tenant_id, response_id).response  # type: ignore[no-any-return]  # a JSONField holds Any


def delete_response(*, tenant_id: int, response_id: str) -> None:
    _wait_if_queued(response_id)
    deleted, _ = _live(tenant_id).filter(id=response_id).delete()
    if not deleted:
        raise _not_found(response_id)


def list_input_items(
    *,
    tenant_id: int,
    response_id: str,
    limit: int = 20,
    order: ListOrder = "desc",
    after: str | None = None,
) -> InputItemPage:
    """One page of the conversation that led to the response, as OpenAI's cursor list pages it:
    ``after`` is the id of the last item of the previous page (in this ``order``)."""
    items: list[Mapping[str, Any]] = list(_find(tenant_id, response_id).input_items)
    if order == "desc":
        items.reverse()
    if after is not None:
        ids = [item.get("id") for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
        items = items[start:]
    return InputItemPage(items=tuple(items[:limit]), has_more=len(items) > limit)


def previous_conversation(*, tenant_id: int, response_id: str) -> tuple[Mapping[str, Any], ...]:
    """The items a ``previous_response_id`` continues from: everything the earlier response was
    given, then everything it produced. Its ``instructions`` are not carried over (reference 7)."""
    try:
        stored = _find(tenant_id, response_id)
    except NotFoundError:
        raise InvalidRequest(
            f"Previous response with id '{response_id}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        ) from None
    return (*stored.input_items, *stored.response.get("output", ()))


def purge_responses(*, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete every tenant's responses created more than ``older_than`` ago; returns how many."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = StoredResponse.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _live(tenant_id: int) -> QuerySet[StoredResponse]:
    rows = StoredResponse.objects.filter(tenant_id=tenant_id)
    retention_days = settings.OARLOCK_RESPONSES_RETENTION_DAYS
    if retention_days > 0:
        rows = rows.filter(created_at__gte=timezone.now() - timedelta(days=retention_days))
    return rows


def _find(tenant_id: int, response_id: str) -> StoredResponse:
    _wait_if_queued(response_id)
    # Another tenant's response is indistinguishable from a missing one: both are 404.
    stored = _live(tenant_id).filter(id=response_id).first()
    if stored is None:
        raise _not_found(response_id)
    return stored


def _wait_if_queued(response_id: str) -> None:
    # A response this process has queued but not yet committed (response_writer.py).
    from compat_api.responses.response_writer import response_writer  # noqa: PLC0415 - the writer imports this module

    response_writer.wait_until_stored(response_id)


def _not_found(response_id: str) -> NotFoundError:
    return NotFoundError(f"Response with id '{response_id}' not found.", param="response_id")
