"""Serializers for ``messages``: every role, string or part-array content, replayed tool calls.

Unknown keys inside a message are ignored rather than refused: open clients put their own
extras there (``reasoning_content``, ``reasoning``, ``prompt_cache_breakpoint`` on parts) and a
400 on any of them breaks a whole conversation.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from rest_framework import serializers

from compat_api.chat.request import (
    ChatMessage,
    ContentPart,
    ImageContent,
    TextContent,
)
from compat_api.chat.schema_errors import invalid, missing, refuse
from compat_api.input_only_field import InputOnlyField
from compat_api.shared_fields_serializer import SharedFieldsSerializer
from compat_api.tool_call_rendering import AssistantToolCall
from foundation.compact_json import compact_json

# A validated part and the wire type it came as (a refusal part becomes text, but only an
# assistant may send one).
TypedPart: TypeAlias = tuple[str, ContentPart]

# Which content part types each role may carry (wire-format reference 1.2).
PART_TYPES_BY_ROLE: dict[str, frozenset[str]] = {
    "system": frozenset({"text"}),
    "developer": frozenset({"text"}),
    "user": frozenset({"text", "image_url"}),
    "assistant": frozenset({"text", "refusal"}),
    "tool": frozenset({"text"}),
}


class ImageUrlSerializer(SharedFieldsSerializer):
    url = serializers.CharField(trim_whitespace=False)
    # Accepted and dropped: Paddler resizes images cluster-wide and refuses the key.
    detail = serializers.CharField(required=False, allow_null=True)


class ContentPartSerializer(SharedFieldsSerializer):
    type = serializers.ChoiceField(["text", "image_url", "input_audio", "file", "refusal"])
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    image_url = ImageUrlSerializer(required=False)
    refusal = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> TypedPart:
        match attrs["type"]:
            case "text" | "refusal" as kind:
                if kind not in attrs:
                    raise serializers.ValidationError({kind: missing(f"A {kind} part needs '{kind}'.").detail})
                return kind, TextContent(attrs[kind])
            case "image_url":
                if "image_url" not in attrs:
                    raise serializers.ValidationError(
                        {"image_url": missing("An image_url part needs 'image_url'.").detail}
                    )
                url = attrs["image_url"]["url"]
                if not url[:5].lower() == "data:":
                    raise serializers.ValidationError(
                        {
                            "image_url": refuse(
                                "Only base64 data URIs (data:image/...;base64,...) are supported for "
                                "images; the inference upstream cannot fetch remote image URLs.",
                                code="unsupported_value",
                            ).detail
                        }
                    )
                return "image_url", ImageContent(url)
            case "input_audio":
                raise refuse("Audio input is not supported by this server.", code="unsupported_value")
            case _:
                raise refuse(
                    "File inputs are not supported by this server; send text or data-URI images.",
                    code="unsupported_value",
                )


class MessageContentField(InputOnlyField[str | tuple[TypedPart, ...]]):
    """``content``: a string, or an array of content parts."""

    default_error_messages = {"invalid": "Expected a string or an array of content parts."}

    def to_internal_value(self, data: Any) -> str | tuple[TypedPart, ...]:
        if isinstance(data, str):
            return data
        if not isinstance(data, list):
            self.fail("invalid")
        parts: list[TypedPart] = []
        errors: dict[int, Any] = {}
        for index, item in enumerate(data):
            part = ContentPartSerializer(data=item)
            if part.is_valid():
                parts.append(part.validated_data)
            else:
                errors[index] = part.errors
        if errors:
            raise serializers.ValidationError(errors)  # type: ignore[arg-type]  # DRF keys list errors by index, as its ListField does; the stubs want str keys
        return tuple(parts)


class ToolCallArgumentsField(InputOnlyField[str]):
    """``function.arguments`` is a JSON string; some clients replay the parsed object instead,
    so an object is accepted and serialised back."""

    default_error_messages = {"invalid": "Expected a JSON string."}

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, dict):
            return compact_json(data)
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class ToolCallFunctionSerializer(SharedFieldsSerializer):
    name = serializers.CharField()
    arguments = ToolCallArgumentsField(required=False, default="")


class ReplayedToolCallSerializer(SharedFieldsSerializer):
    id = serializers.CharField(required=False, allow_blank=True, default="")
    type = serializers.ChoiceField(["function", "custom"], required=False, default="function")
    function = ToolCallFunctionSerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> AssistantToolCall:
        if attrs["type"] == "custom":
            raise refuse("Custom tool calls are not supported; only function tools are.", code="unsupported_value")
        if "function" not in attrs:
            raise serializers.ValidationError({"function": missing("A function tool call needs 'function'.").detail})
        function = attrs["function"]
        return AssistantToolCall(id=attrs["id"], name=function["name"], arguments=function["arguments"])


class MessageSerializer(SharedFieldsSerializer):
    role = serializers.ChoiceField(["system", "developer", "user", "assistant", "tool", "function"])
    content = MessageContentField(required=False, allow_null=True)
    # Participant names have no place in Paddler's two-key messages; accepted and dropped.
    name = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    # Built as a list explicitly: ``many=True, allow_null=True`` would let each *call* be null too.
    tool_calls: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ReplayedToolCallSerializer(), required=False, allow_null=True
    )
    tool_call_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    refusal = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    # Earlier reasoning replayed by "interleaved thinking" clients (both names in use);
    # accepted and dropped, as chat templates drop past reasoning themselves.
    reasoning_content = serializers.JSONField(required=False, allow_null=True)
    reasoning = serializers.JSONField(required=False, allow_null=True)
    audio = serializers.JSONField(required=False, allow_null=True)
    function_call = serializers.JSONField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> ChatMessage:
        role = attrs["role"]
        if role == "function":
            raise serializers.ValidationError(
                {"role": refuse("The deprecated 'function' role is not supported; use 'tool' messages.").detail}
            )
        for deprecated in ("audio", "function_call"):
            if attrs.get(deprecated) is not None:
                what = "Audio output" if deprecated == "audio" else "The deprecated 'function_call'"
                raise serializers.ValidationError({deprecated: refuse(f"{what} is not supported.").detail})
        content = attrs.get("content")
        tool_calls = tuple(attrs.get("tool_calls") or ())
        if role != "assistant" and tool_calls:
            raise serializers.ValidationError(
                {"tool_calls": invalid("Only assistant messages may carry 'tool_calls'.").detail}
            )
        if role != "assistant" and content is None:
            raise serializers.ValidationError({"content": missing(f"A {role} message needs 'content'.").detail})
        if role == "tool" and not attrs.get("tool_call_id"):
            raise serializers.ValidationError({"tool_call_id": missing("A tool message needs 'tool_call_id'.").detail})
        if role == "assistant" and content is None and attrs.get("refusal"):
            content = attrs["refusal"]
        return ChatMessage(
            role=role,
            content=_checked_parts(role, content),
            tool_calls=tool_calls,
            tool_call_id=attrs.get("tool_call_id") if role == "tool" else None,
        )


def _checked_parts(role: str, content: str | tuple[TypedPart, ...] | None) -> str | tuple[ContentPart, ...] | None:
    if not isinstance(content, tuple):
        return content
    allowed = PART_TYPES_BY_ROLE[role]
    for index, (kind, _) in enumerate(content):
        if kind not in allowed:
            raise serializers.ValidationError(
                {"content": {index: invalid(f"A {role} message cannot contain {kind} parts.").detail}}  # type: ignore[dict-item]  # DRF keys list errors by index, as its ListField does; the stubs want str keys
            )
    return tuple(part for _, part in content)
