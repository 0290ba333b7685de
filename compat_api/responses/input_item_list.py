"""``GET /v1/responses/{id}/input_items``: its query and OpenAI's cursor-list body.

The SDK's auto-pager asks again with ``after=<last id>`` until ``has_more`` is false, so
``has_more`` is always present (wire-format reference 7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from compat_api.responses.response_store import InputItemPage, ListOrder
from compat_api.shared_fields_serializer import SharedFieldsSerializer


@dataclass(frozen=True, slots=True)
class InputItemsQuery:
    limit: int
    order: ListOrder
    after: str | None


class InputItemsQuerySerializer(SharedFieldsSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")
    after = serializers.CharField(required=False, allow_blank=False)
    # ``include[]`` is accepted: there is nothing beyond what every item already holds.

    @classmethod
    def parse(cls, query: Mapping[str, Any]) -> InputItemsQuery:
        given = {key: query[key] for key in ("limit", "order", "after") if key in query}
        serializer = cls(data=given)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        return InputItemsQuery(values["limit"], values["order"], values.get("after"))


def input_item_list_json(page: InputItemPage) -> dict[str, Any]:
    data = [dict(item) for item in page.items]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0].get("id") if data else None,
        "last_id": data[-1].get("id") if data else None,
        "has_more": page.has_more,
    }
