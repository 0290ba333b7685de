"""Serializers for ``tools`` and ``tool_choice`` (wire-format reference 1.4)."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from compat_api.chat.request import FunctionDefinition, ToolChoice
from compat_api.chat.schema_errors import invalid, missing, refuse
from compat_api.input_only_field import InputOnlyField
from compat_api.shared_fields_serializer import SharedFieldsSerializer

TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"


class FunctionDefinitionSerializer(SharedFieldsSerializer):
    name = serializers.CharField(
        validators=[RegexValidator(TOOL_NAME_PATTERN, "Must match ^[a-zA-Z0-9_-]{1,64}$.", code="invalid_name")]
    )
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    # Checked and reduced for Paddler by the request's parse, under one schema budget.
    parameters = serializers.DictField(required=False, allow_null=True)
    # The agent validates every parsed call against the schema anyway; accepted, no effect.
    strict = serializers.BooleanField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> FunctionDefinition:
        return FunctionDefinition(
            name=attrs["name"],
            description=attrs.get("description"),
            parameters=attrs.get("parameters"),
        )


class ToolSerializer(SharedFieldsSerializer):
    type = serializers.ChoiceField(["function", "custom"])
    function = FunctionDefinitionSerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> FunctionDefinition:
        if attrs["type"] == "custom":
            raise serializers.ValidationError(
                {"type": refuse("Custom tools are not supported; use function tools.", code="unsupported_value").detail}
            )
        if "function" not in attrs:
            raise serializers.ValidationError({"function": missing("A function tool needs 'function'.").detail})
        definition: FunctionDefinition = attrs["function"]
        return definition


class FunctionNameSerializer(SharedFieldsSerializer):
    name = serializers.CharField()


class NamedToolChoiceSerializer(SharedFieldsSerializer):
    type = serializers.ChoiceField(["function", "custom", "allowed_tools"])
    function = FunctionNameSerializer(required=False)


class AllowedToolSerializer(SharedFieldsSerializer):
    type = serializers.ChoiceField(["function", "custom"])
    function = FunctionNameSerializer(required=False)


class AllowedToolsSerializer(SharedFieldsSerializer):
    mode = serializers.ChoiceField(["auto", "required"])
    tools = AllowedToolSerializer(many=True)


class ToolChoiceField(InputOnlyField[ToolChoice]):
    """``"none"`` / ``"auto"`` / ``"required"``, a named function, or ``allowed_tools``."""

    default_error_messages = {
        "invalid": "Expected 'none', 'auto', 'required' or a tool choice object.",
    }

    def to_internal_value(self, data: Any) -> ToolChoice:
        if data in ("none", "auto", "required"):
            return ToolChoice(data)
        if not isinstance(data, dict):
            self.fail("invalid")
        kind = data.get("type")
        if kind == "custom":
            raise serializers.ValidationError(
                {"type": refuse("Custom tools are not supported; use function tools.", code="unsupported_value").detail}
            )
        if kind == "allowed_tools":
            return _allowed_tools(data.get("allowed_tools"))
        named = _validated(NamedToolChoiceSerializer, data)
        if "function" not in named:
            raise serializers.ValidationError({"function": missing("A named tool choice needs 'function'.").detail})
        return ToolChoice("required", (named["function"]["name"],))


def _allowed_tools(data: Any) -> ToolChoice:
    if data is None:
        raise serializers.ValidationError({"allowed_tools": missing("'allowed_tools' is required.").detail})
    try:
        allowed = _validated(AllowedToolsSerializer, data)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({"allowed_tools": error.detail}) from error
    names: list[str] = []
    for index, tool in enumerate(allowed["tools"]):
        if tool["type"] != "function" or "function" not in tool:
            raise serializers.ValidationError(
                {"allowed_tools": {"tools": {index: invalid("Only function tools can be allowed.").detail}}}  # type: ignore[dict-item]  # DRF keys list errors by index, as its ListField does; the stubs want str keys
            )
        names.append(tool["function"]["name"])
    return ToolChoice(allowed["mode"], tuple(names))


def _validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    validated: dict[str, Any] = serializer.validated_data
    return validated
