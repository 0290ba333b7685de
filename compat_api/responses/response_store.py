"""Stored responses: save, read, list input items, delete, purge — always within one tenant.

Synchronous ORM services; the async API path calls them through
``channels.db.database_sync_to_async`` (which also closes stale connections). A response older
than ``OARLOCK_RESPONSES_RETENTION_DAYS`` is gone for every reader even before the purge command
deletes its row, so retention holds whether or not the command runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from compat_api.errors import InvalidRequest, NotFoundError
from compat_api.models import StoredResponse

ListOrder = Literal["asc", "desc"]


@dataclass(frozen=True, slots=True)
class InputItemPage:
    items: tuple[Mapping[str, Any], ...]
    has_more: bool


def save_response(
    *,
    tenant_id: int,
    response: Mapping[str, Any],
    input_items: Sequence[Mapping[str, Any]],
) -> None:
    _stored_response(tenant_id, response, input_items).save(force_insert=True)


def save_responses(rows: Sequence[tuple[int, Mapping[str, Any], Sequence[Mapping[str, Any]]]]) -> None:
    """Store many ``(tenant_id, response, input_items)`` in one statement (the response writer's)."""
    StoredResponse.objects.bulk_create(
        [_stored_response(tenant_id, response, input_items) for tenant_id, response, input_items in rows]
    )


def _stored_response(
    tenant_id: int, response: Mapping[str, Any], input_items: Sequence[Mapping[str, Any]]
) -> StoredResponse:
    return StoredResponse(
        id=response["id"],
        tenant_id=tenant_id,
        model=response["model"],
        status=response["status"],
        response=dict(response),
        input_items=list(input_items),
    )


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
