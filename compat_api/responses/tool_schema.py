"""Validation of Responses ``tools`` and ``tool_choice`` (wire-format reference 4.1, 4.3).

Only flat ``function`` tools can run here. Every other tool type (``web_search``,
``file_search``, ``custom``, ``mcp``, ``namespace``, ...) is skipped with a log line instead of
refused: Codex always sends a mixed list, and a server that 400s on it is unusable from Codex.
Only a ``tool_choice`` that *forces* a tool we do not run is refused.
"""

from __future__ import annotations

import logging
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from compat_api.input_only_field import InputOnlyField
from compat_api.responses.json_fields import JsonObjectField, StrictBooleanField, StrictCharField
from compat_api.responses.request import FunctionToolSpec, ToolChoice, ToolChoiceMode
from compat_api.shared_fields_serializer import SharedFieldsSerializer

logger = logging.getLogger(__name__)


class _FunctionToolSerializer(SharedFieldsSerializer):
    name = StrictCharField(max_length=128)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True)
    parameters = JsonObjectField(required=False, allow_null=True)
    strict = StrictBooleanField(required=False, allow_null=True)


class ToolField(InputOnlyField[FunctionToolSpec | None]):
    """One entry of ``tools``: a ``FunctionToolSpec``, or ``None`` for a skipped tool type."""

    def to_internal_value(self, data: Any) -> FunctionToolSpec | None:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Invalid type: expected an object.", code="invalid")
        tool_type = data.get("type")
        if not isinstance(tool_type, str):
            raise serializers.ValidationError({"type": ["This field is required."]}, code="required")
        if tool_type != "function":
            logger.info("Skipping tool of type %r: only function tools run here", tool_type)
            return None
        serializer = _FunctionToolSerializer(data=data)
        if not serializer.is_valid():
            raise serializers.ValidationError(serializer.errors)
        values = serializer.validated_data
        return FunctionToolSpec(
            name=values["name"],
            description=values.get("description"),
            parameters=values.get("parameters"),
            strict=values.get("strict"),
        )


_MODES: tuple[ToolChoiceMode, ...] = ("none", "auto", "required")


class _AllowedToolsSerializer(SharedFieldsSerializer):
    mode = serializers.ChoiceField(choices=["auto", "required"])
    tools = serializers.ListField(child=JsonObjectField())


class ToolChoiceField(InputOnlyField[ToolChoice]):
    """``none``/``auto``/``required``, ``{type: function, name}`` or ``{type: allowed_tools}``."""

    def to_internal_value(self, data: Any) -> ToolChoice:
        if isinstance(data, str):
            for mode in _MODES:
                if mode == data:
                    return ToolChoice(mode, echo=data)
            raise serializers.ValidationError(
                f"Invalid value: {data!r}. Supported values are: 'none', 'auto' and 'required'.",
                code="invalid_choice",
            )
        if not isinstance(data, dict):
            raise serializers.ValidationError("Invalid type: expected a string or an object.", code="invalid")
        choice_type = data.get("type")
        if choice_type == "function":
            name = data.get("name")
            if not isinstance(name, str) or not name:
                raise serializers.ValidationError({"name": ["This field is required."]}, code="required")
            return ToolChoice("required", (name,), echo={"type": "function", "name": name})
        if choice_type == "allowed_tools":
            serializer = _AllowedToolsSerializer(data=data)
            if not serializer.is_valid():
                raise serializers.ValidationError(serializer.errors)
            values = serializer.validated_data
            names = tuple(
                tool["name"]
                for tool in values["tools"]
                if tool.get("type") == "function" and isinstance(tool.get("name"), str)
            )
            return ToolChoice(values["mode"], names, echo=data)
        raise serializers.ValidationError(
            {
                "type": [
                    ErrorDetail(
                        f"tool_choice forces a {choice_type!r} tool, which this server does not "
                        "run: only function tools are supported.",
                        code="unsupported",
                    )
                ]
            }
        )
