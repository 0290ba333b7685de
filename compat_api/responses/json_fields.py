"""DRF fields that accept exactly one JSON type.

DRF's own fields coerce (``"5"`` is an integer, ``"yes"`` a boolean, ``5`` a string, text is
trimmed); OpenAI answers such bodies with 400 ``invalid_type``, and prompt text must reach the
model byte for byte. The error code ``invalid`` is what the error envelope maps to
``invalid_type``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from compat_api.input_only_field import InputOnlyField


def _type_error(expected: str) -> serializers.ValidationError:
    return serializers.ValidationError(f"Invalid type: expected {expected}.", code="invalid")


class StrictBooleanField(InputOnlyField[bool]):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            raise _type_error("a boolean")
        return data


class StrictCharField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise _type_error("a string")
        return str(super().to_internal_value(data))


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, int) or isinstance(data, bool):
            raise _type_error("an integer")
        return int(super().to_internal_value(data))


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if not isinstance(data, (int, float)) or isinstance(data, bool):
            raise _type_error("a number")
        return float(super().to_internal_value(data))


class JsonObjectField(InputOnlyField[dict[str, Any]]):
    """Any JSON object, kept as is (a JSON Schema, ``metadata``)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise _type_error("an object")
        return data


class AnyJsonField(InputOnlyField[Any]):
    """A parameter we accept whatever its value and then ignore."""

    def to_internal_value(self, data: Any) -> Any:
        return data
