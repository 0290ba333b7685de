"""The base of the request schemas' own fields: they parse a JSON body and are never rendered."""

from __future__ import annotations

from typing import Any, TypeVar

from rest_framework import serializers

ParsedValue = TypeVar("ParsedValue")


class InputOnlyField(serializers.Field[ParsedValue, Any, Any, Any]):
    """A subclass writes ``to_internal_value``. DRF asks every field for ``to_representation``
    too; nothing renders a request schema, so a value stands for itself."""

    def to_representation(self, value: Any) -> Any:
        return value
