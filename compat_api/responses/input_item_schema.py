"""Validation of Responses input items (wire-format reference 4.2) into ``input_item`` values.

Lenient where real clients differ from the spec, strict where a silent loss would follow:
extra keys on an item (``parsed_arguments`` from the JS tool loop, ``status``, ``namespace``)
and ids we never issued (Codex's ``msg_<uuid>``) are accepted and never looked up; item kinds
we cannot show the model (``web_search_call``, ...) are kept but not rendered; an image we
cannot send upstream (a remote URL, a ``file_id``) is a 400 that says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from compat_api.input_only_field import InputOnlyField
from compat_api.responses.input_item import (
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputImage,
    InputItem,
    InputText,
    MessageItem,
    MessagePart,
    OpaqueItem,
    OutputText,
    ReasoningItem,
    Refusal,
)
from compat_api.responses.json_fields import StrictCharField
from compat_api.shared_fields_serializer import SharedFieldsSerializer

logger = logging.getLogger(__name__)


def _error(message: str, code: str = "invalid") -> serializers.ValidationError:
    return serializers.ValidationError(message, code=code)


def _field_error(field: str, message: str, code: str) -> serializers.ValidationError:
    """An error on one key of the object being parsed, so ``param`` names that key."""
    return serializers.ValidationError({field: [ErrorDetail(message, code=code)]})


def _object(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _error("Invalid type: expected an object.")
    return value


def _run(
    serializer_class: type[serializers.Serializer[Any]],
    value: Any,
) -> dict[str, Any]:
    serializer = serializer_class(data=value)
    if not serializer.is_valid():
        raise serializers.ValidationError(serializer.errors)
    return dict(serializer.validated_data)


# --- content parts --------------------------------------------------------------------------


class _TextPartSerializer(SharedFieldsSerializer):
    text = StrictCharField(allow_blank=True)


class _RefusalPartSerializer(SharedFieldsSerializer):
    refusal = StrictCharField(allow_blank=True)


class _ImagePartSerializer(SharedFieldsSerializer):
    image_url = StrictCharField(required=False, allow_null=True)
    file_id = StrictCharField(required=False, allow_null=True)
    detail = StrictCharField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        url = attrs.get("image_url")
        if url is None:
            message = (
                "Images given by file_id are not supported: there is no Files API here. "
                "Send the image as a data: URL in image_url."
                if attrs.get("file_id")
                else "An input_image needs an image_url."
            )
            raise _field_error("image_url", message, "unsupported")
        if not url.startswith("data:"):
            raise _field_error(
                "image_url",
                "Only data: URLs are supported for images (the inference upstream does not "
                "fetch remote images); send the image base64-encoded.",
                "unsupported",
            )
        return attrs


_PART_TYPES = ("input_text", "input_image", "output_text", "refusal")


def parse_message_part(value: Any) -> MessagePart:
    part = _object(value)
    part_type = part.get("type")
    if part_type == "input_text":
        return InputText(_run(_TextPartSerializer, part)["text"])
    if part_type == "output_text":
        return OutputText(_run(_TextPartSerializer, part)["text"])
    if part_type == "refusal":
        return Refusal(_run(_RefusalPartSerializer, part)["refusal"])
    if part_type == "input_image":
        image = _run(_ImagePartSerializer, part)
        return InputImage(image["image_url"], image.get("detail"))
    if part_type == "input_file":
        raise _field_error(
            "type",
            "input_file parts are not supported: the model reads text and images.",
            "unsupported",
        )
    raise _field_error(
        "type",
        f"Invalid value: {part_type!r}. Supported values are: {', '.join(_PART_TYPES)}.",
        "invalid_choice",
    )


def _parse_list(values: Any, parse: Any) -> tuple[Any, ...]:
    if not isinstance(values, list):
        raise _error("Invalid type: expected a string or an array.")
    parsed, errors = [], {}
    for index, value in enumerate(values):
        try:
            parsed.append(parse(value))
        except serializers.ValidationError as error:
            errors[index] = error.detail
    if errors:
        raise serializers.ValidationError(errors)  # type: ignore[arg-type]  # DRF keys list errors by index, as its ListField does; the stubs want str keys
    return tuple(parsed)


class MessageContentField(InputOnlyField[str | tuple[MessagePart, ...]]):
    """A string, or a list of content parts."""

    def to_internal_value(self, data: Any) -> str | tuple[MessagePart, ...]:
        if isinstance(data, str):
            return data
        return _parse_list(data, parse_message_part)


class FunctionOutputField(InputOnlyField[str | tuple[InputText | InputImage, ...]]):
    """``function_call_output.output``: a string, or text and image parts."""

    def to_internal_value(self, data: Any) -> str | tuple[InputText | InputImage, ...]:
        if isinstance(data, str):
            return data
        parts = _parse_list(data, parse_message_part)
        for index, part in enumerate(parts):
            if not isinstance(part, (InputText, InputImage)):
                error = _field_error(
                    "type",
                    "A function_call_output holds input_text and input_image parts only.",
                    "unsupported",
                )
                raise serializers.ValidationError({index: error.detail})  # type: ignore[dict-item]  # DRF keys list errors by index, as its ListField does; the stubs want str keys
        return parts


# --- items ----------------------------------------------------------------------------------


class _MessageItemSerializer(SharedFieldsSerializer):
    role = serializers.ChoiceField(choices=["user", "assistant", "system", "developer"])
    content = MessageContentField()
    id = StrictCharField(required=False, allow_null=True, allow_blank=True)
    phase = StrictCharField(required=False, allow_null=True)


class _FunctionCallItemSerializer(SharedFieldsSerializer):
    call_id = StrictCharField()
    name = StrictCharField()
    arguments = StrictCharField(allow_blank=True)
    id = StrictCharField(required=False, allow_null=True, allow_blank=True)


class _FunctionCallOutputItemSerializer(SharedFieldsSerializer):
    call_id = StrictCharField(max_length=64)
    output = FunctionOutputField()
    id = StrictCharField(required=False, allow_null=True, allow_blank=True)


class _TypedTextSerializer(SharedFieldsSerializer):
    text = StrictCharField(allow_blank=True)


class _ReasoningItemSerializer(SharedFieldsSerializer):
    summary = _TypedTextSerializer(many=True, required=False)
    # Built as a list explicitly: ``many=True, allow_null=True`` would let each *part* be null too.
    content: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=_TypedTextSerializer(), required=False, allow_null=True
    )
    encrypted_content = StrictCharField(required=False, allow_null=True, allow_blank=True)
    id = StrictCharField(required=False, allow_null=True, allow_blank=True)


class _CustomToolCallItemSerializer(SharedFieldsSerializer):
    call_id = StrictCharField()
    name = StrictCharField()
    input = StrictCharField(allow_blank=True)
    id = StrictCharField(required=False, allow_null=True, allow_blank=True)


class _CustomToolCallOutputItemSerializer(SharedFieldsSerializer):
    call_id = StrictCharField()
    output = FunctionOutputField()
    id = StrictCharField(required=False, allow_null=True, allow_blank=True)


def _item_id(data: Mapping[str, Any]) -> str | None:
    # Ids are the client's business (Codex invents them, store:false items have none we know):
    # we keep them for storage and never resolve them.
    return data.get("id") or None


def parse_input_item(value: Any) -> InputItem:
    item = _object(value)
    item_type = item.get("type")
    if item_type is None and "role" in item:
        item_type = "message"
    if item_type == "message":
        data = _run(_MessageItemSerializer, item)
        return MessageItem(data["role"], data["content"], _item_id(data), data.get("phase"))
    if item_type == "function_call":
        data = _run(_FunctionCallItemSerializer, item)
        return FunctionCallItem(data["call_id"], data["name"], data["arguments"], _item_id(data))
    if item_type == "function_call_output":
        data = _run(_FunctionCallOutputItemSerializer, item)
        return FunctionCallOutputItem(data["call_id"], data["output"], _item_id(data))
    if item_type == "reasoning":
        data = _run(_ReasoningItemSerializer, item)
        return ReasoningItem(
            summary=tuple(part["text"] for part in data.get("summary") or ()),
            content=tuple(part["text"] for part in data.get("content") or ()),
            encrypted_content=data.get("encrypted_content"),
            id=_item_id(data),
        )
    if item_type == "custom_tool_call":
        data = _run(_CustomToolCallItemSerializer, item)
        return CustomToolCallItem(data["call_id"], data["name"], data["input"], _item_id(data))
    if item_type == "custom_tool_call_output":
        data = _run(_CustomToolCallOutputItemSerializer, item)
        output = _output_text(data["output"])
        return CustomToolCallOutputItem(data["call_id"], output, _item_id(data))
    if item_type == "item_reference":
        raise _field_error(
            "type",
            "item_reference is not supported: send the referenced item itself, or use previous_response_id.",
            "unsupported",
        )
    if not isinstance(item_type, str) or not item_type:
        raise _field_error("type", "Each input item needs a 'type' (or a 'role' for a message).", "required")
    logger.info("Accepting input item of type %r without showing it to the model", item_type)
    document = {key: value for key, value in item.items() if key not in ("id", "type")}
    item_id = item.get("id")
    return OpaqueItem(item_type, document, item_id if isinstance(item_id, str) and item_id else None)


def _output_text(output: str | tuple[InputText | InputImage, ...]) -> str:
    if isinstance(output, str):
        return output
    return "".join(part.text for part in output if isinstance(part, InputText))


class InputField(InputOnlyField[tuple[InputItem, ...]]):
    """``input``: a string (one user message) or a list of items."""

    def to_internal_value(self, data: Any) -> tuple[InputItem, ...]:
        if isinstance(data, str):
            return (MessageItem("user", data),)
        return _parse_list(data, parse_input_item)
