"""Validation of a ``POST /v1/responses`` body into a ``ResponsesRequest``.

Every parameter of the current spec is recognised (wire-format reference 4.1 and the Addendum,
plus Codex's ``client_metadata``); an unknown key is a 400 ``unknown_parameter``, as OpenAI
answers. What needs machinery we do not have (``background``, ``conversation``, stored
``prompt`` templates) is refused with a 400 that says why, never silently ignored.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rest_framework import serializers

from compat_api.errors import InvalidRequest
from compat_api.forwarded_schemas import check_grammar_schema, reduced_tool_parameters
from compat_api.reasoning_effort import REASONING_EFFORTS
from compat_api.request_limits import (
    MAX_OUTPUT_TOKENS,
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_PAIRS,
    METADATA_VALUE_MAX_LENGTH,
    MODEL_MAX_LENGTH,
    PROMPT_CACHE_KEY_MAX_LENGTH,
    SAFETY_IDENTIFIER_MAX_LENGTH,
    TOKEN_MAX_LENGTH,
    USER_MAX_LENGTH,
    printable,
)
from compat_api.responses.input_item_schema import InputField
from compat_api.responses.json_fields import (
    AnyJsonField,
    JsonObjectField,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
)
from compat_api.responses.request import ReasoningOptions, ResponsesRequest, ToolChoice
from compat_api.responses.tool_schema import ToolChoiceField, ToolField
from compat_api.schema_budget import SchemaBudget
from compat_api.sendable_json import check_sendable_json
from compat_api.shared_fields_serializer import SharedFieldsSerializer
from compat_api.structured_output_format import (
    JsonObjectFormat,
    JsonSchemaFormat,
    PlainTextFormat,
    StructuredOutputFormat,
)


class _ReasoningSerializer(SharedFieldsSerializer):
    effort = serializers.ChoiceField(choices=REASONING_EFFORTS, required=False, allow_null=True)
    summary = serializers.ChoiceField(choices=["auto", "concise", "detailed"], required=False, allow_null=True)
    # Deprecated / newer knobs: accepted, nothing here to apply them to.
    generate_summary = AnyJsonField(required=False, allow_null=True)
    mode = AnyJsonField(required=False, allow_null=True)
    # A declared field: DRF's metaclass takes it off the class, so Field.context stays intact.
    context = AnyJsonField(required=False, allow_null=True)  # type: ignore[assignment]  # see above


class _TextFormatSerializer(SharedFieldsSerializer):
    type = serializers.ChoiceField(choices=["text", "json_object", "json_schema"])
    name = StrictCharField(required=False, allow_null=True, max_length=64)
    schema = JsonObjectField(required=False)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True)
    strict = StrictBooleanField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["type"] == "json_schema" and "schema" not in attrs:
            raise serializers.ValidationError({"schema": ["This field is required."]}, code="required")
        return attrs


class _TextSerializer(SharedFieldsSerializer):
    format = _TextFormatSerializer(required=False, allow_null=True)
    verbosity = serializers.ChoiceField(choices=["low", "medium", "high"], required=False, allow_null=True)


def _validate_metadata(value: dict[str, Any] | None) -> None:
    if value is None:
        return
    if len(value) > METADATA_MAX_PAIRS:
        raise serializers.ValidationError(f"metadata holds at most {METADATA_MAX_PAIRS} pairs.", code="max_length")
    for key, item in value.items():
        if len(key) > METADATA_KEY_MAX_LENGTH or not isinstance(item, str) or len(item) > METADATA_VALUE_MAX_LENGTH:
            raise serializers.ValidationError(
                "metadata keys are strings of up to 64 characters and values strings of up to 512 characters.",
                code="invalid",
            )


def _optional(field_class: type[serializers.Field[Any, Any, Any, Any]], **kwargs: Any) -> Any:
    return field_class(required=False, allow_null=True, **kwargs)


class ResponsesRequestSerializer(SharedFieldsSerializer):
    model = StrictCharField(max_length=MODEL_MAX_LENGTH, validators=[printable])
    input = _optional(InputField)
    instructions = _optional(StrictCharField, allow_blank=True)
    max_output_tokens = _optional(StrictIntegerField, min_value=1, max_value=MAX_OUTPUT_TOKENS)
    temperature = _optional(StrictFloatField, min_value=0, max_value=2)
    top_p = _optional(StrictFloatField, min_value=0, max_value=1)
    top_logprobs = _optional(StrictIntegerField, min_value=0, max_value=20)
    reasoning = _optional(_ReasoningSerializer)
    text = _optional(_TextSerializer)
    tools = _optional(serializers.ListField, child=ToolField())
    tool_choice = _optional(ToolChoiceField)
    parallel_tool_calls = _optional(StrictBooleanField)
    max_tool_calls = _optional(StrictIntegerField, min_value=1)
    stream = _optional(StrictBooleanField)
    stream_options = _optional(JsonObjectField)
    store = _optional(StrictBooleanField)
    previous_response_id = _optional(StrictCharField, max_length=256)
    include = _optional(serializers.ListField, child=StrictCharField(max_length=TOKEN_MAX_LENGTH), max_length=32)
    metadata = _optional(JsonObjectField, validators=[_validate_metadata])
    truncation = _optional(serializers.ChoiceField, choices=["auto", "disabled"])
    background = _optional(StrictBooleanField)
    service_tier = _optional(StrictCharField, max_length=TOKEN_MAX_LENGTH)
    user = _optional(StrictCharField, allow_blank=True, max_length=USER_MAX_LENGTH)
    safety_identifier = _optional(StrictCharField, allow_blank=True, max_length=SAFETY_IDENTIFIER_MAX_LENGTH)
    prompt_cache_key = _optional(StrictCharField, allow_blank=True, max_length=PROMPT_CACHE_KEY_MAX_LENGTH)
    prompt_cache_retention = _optional(StrictCharField, max_length=TOKEN_MAX_LENGTH)
    # Accepted whatever their value; nothing here to apply them to.
    access_programs = _optional(AnyJsonField)
    background_options = _optional(AnyJsonField)
    client_metadata = _optional(AnyJsonField)  # Codex CLI; typed by no SDK
    context_management = _optional(AnyJsonField)
    image = _optional(AnyJsonField)
    moderation = _optional(AnyJsonField)
    prompt_cache_options = _optional(AnyJsonField)
    # Refused when set (``refuse_unsupported``); declared so they count as known.
    conversation = _optional(AnyJsonField)
    prompt = _optional(AnyJsonField)

    @classmethod
    def parse(cls, data: Any) -> ResponsesRequest:
        if not isinstance(data, dict):
            raise InvalidRequest("The request body must be a JSON object.", code="invalid_type")
        for key in data:
            if key not in cls._declared_fields:
                raise InvalidRequest(f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
        refuse_unsupported(data)
        check_sendable_json(data)
        serializer = cls(data=data)
        serializer.is_valid(raise_exception=True)
        return _build_request(_with_checked_schemas(serializer.validated_data))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("input") is None and not attrs.get("previous_response_id"):
            raise serializers.ValidationError({"input": ["Missing required parameter: 'input'."]}, code="required")
        choice: ToolChoice | None = attrs.get("tool_choice")
        if choice is not None and choice.names and len(choice.names) == 1:
            declared = {tool.name for tool in attrs.get("tools") or () if tool is not None}
            if choice.names[0] not in declared:
                raise serializers.ValidationError(
                    {"tool_choice": {"name": [f"Tool choice '{choice.names[0]}' not found in 'tools' parameter."]}},
                    code="invalid_value",
                )
        return attrs


def _with_checked_schemas(values: dict[str, Any]) -> dict[str, Any]:
    """Tool parameters reduced for Paddler and the grammar schema checked, all under one
    budget (compat_api/schema_budget.py). Skipped tool types are None and keep their index."""
    budget = SchemaBudget()
    tools = [
        None
        if tool is None
        else replace(
            tool,
            paddler_parameters=reduced_tool_parameters(
                tool.parameters, param=f"tools[{index}].parameters", budget=budget
            ),
        )
        for index, tool in enumerate(values.get("tools") or ())
    ]
    text_format = (values.get("text") or {}).get("format") or {}
    if text_format.get("type") == "json_schema":
        check_grammar_schema(text_format["schema"], param="text.format.schema", budget=budget)
    return {**values, "tools": tools}


def refuse_unsupported(data: dict[str, Any]) -> None:
    """Parameters that need machinery this gateway does not have: a clear 400, not a no-op."""
    if data.get("background") is True:
        raise InvalidRequest(
            "Background responses are not supported by this server; send the request without "
            "'background' (or with background: false) and read the result from the stream.",
            param="background",
            code="unsupported_value",
        )
    if data.get("conversation") is not None:
        raise InvalidRequest(
            "The Conversations API is not supported by this server; use previous_response_id, "
            "or send the whole conversation in 'input'.",
            param="conversation",
            code="unsupported_parameter",
        )
    if data.get("prompt") is not None:
        raise InvalidRequest(
            "Stored prompt templates are not supported by this server; send 'instructions' and 'input' instead.",
            param="prompt",
            code="unsupported_parameter",
        )


def _text_format(text: dict[str, Any] | None) -> StructuredOutputFormat:
    text_format = (text or {}).get("format") or {"type": "text"}
    if text_format["type"] == "json_schema":
        return JsonSchemaFormat(
            schema=text_format["schema"],
            name=text_format.get("name"),
            description=text_format.get("description"),
            strict=text_format.get("strict"),
        )
    if text_format["type"] == "json_object":
        return JsonObjectFormat()
    return PlainTextFormat()


def _reasoning(reasoning: dict[str, Any] | None) -> ReasoningOptions | None:
    if reasoning is None:
        return None
    return ReasoningOptions(effort=reasoning.get("effort"), summary=reasoning.get("summary"))


def _build_request(values: dict[str, Any]) -> ResponsesRequest:
    def given(name: str, default: Any) -> Any:
        value = values.get(name)
        return default if value is None else value

    return ResponsesRequest(
        model=values["model"],
        input=given("input", ()),
        instructions=values.get("instructions"),
        stream=given("stream", False),
        store=given("store", True),
        previous_response_id=values.get("previous_response_id") or None,
        max_output_tokens=values.get("max_output_tokens"),
        reasoning=_reasoning(values.get("reasoning")),
        text_format=_text_format(values.get("text")),
        verbosity=(values.get("text") or {}).get("verbosity"),
        tools=tuple(tool for tool in given("tools", ()) if tool is not None),
        tool_choice=given("tool_choice", ToolChoice("auto")),
        temperature=values.get("temperature"),
        top_p=values.get("top_p"),
        top_logprobs=values.get("top_logprobs"),
        parallel_tool_calls=given("parallel_tool_calls", True),
        max_tool_calls=values.get("max_tool_calls"),
        metadata=given("metadata", {}),
        truncation=given("truncation", "disabled"),
        user=values.get("user"),
        safety_identifier=values.get("safety_identifier"),
        prompt_cache_key=values.get("prompt_cache_key"),
        include=tuple(given("include", ())),
    )
