"""The ``POST /v1/chat/completions`` body: every parameter OpenAI's current spec knows.

Each parameter is in exactly one of three groups (docs/chat-completions.md lists them):

* mapped — it changes what Paddler is asked for or how the answer is shaped;
* accepted and ignored — validated for type, then dropped: sampling is set cluster-wide in
  Paddler, and a 400 on ``temperature`` would break every client;
* refused — a 400 that names the field and says why, because ignoring it would silently change
  what the client gets (``n`` > 1, ``logprobs``, audio, web search, predicted outputs).

Anything else is OpenAI's ``Unrecognized request argument supplied: X`` (param and code null).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rest_framework import serializers

from compat_api.chat.message_schema import MessageSerializer
from compat_api.chat.request import ChatCompletionRequest, ToolChoice
from compat_api.chat.schema_errors import VERBATIM_CODES, invalid, refuse
from compat_api.chat.tool_schema import ToolChoiceField, ToolSerializer
from compat_api.error_envelope import first_validation_error
from compat_api.errors import InvalidRequest
from compat_api.forwarded_schemas import check_grammar_schema, reduced_tool_parameters
from compat_api.input_only_field import InputOnlyField
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
from compat_api.schema_budget import SchemaBudget
from compat_api.sendable_json import check_sendable_json
from compat_api.shared_fields_serializer import SharedFieldsSerializer
from compat_api.structured_output_format import (
    JsonObjectFormat,
    JsonSchemaFormat,
    PlainTextFormat,
    StructuredOutputFormat,
)

_NULLABLE: dict[str, Any] = {"required": False, "allow_null": True}


class StreamOptionsSerializer(SharedFieldsSerializer):
    include_usage = serializers.BooleanField(**_NULLABLE)
    # OpenAI's random padding; we never send it, so asking for it or not changes nothing.
    include_obfuscation = serializers.BooleanField(**_NULLABLE)


class JsonSchemaSerializer(SharedFieldsSerializer):
    name = serializers.CharField(required=False, max_length=64, default="response")
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    schema = serializers.DictField(**_NULLABLE)
    strict = serializers.BooleanField(**_NULLABLE)


class ResponseFormatSerializer(SharedFieldsSerializer):
    type = serializers.ChoiceField(["text", "json_object", "json_schema"])
    json_schema = JsonSchemaSerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> StructuredOutputFormat:
        match attrs["type"]:
            case "text":
                return PlainTextFormat()
            case "json_object":
                return JsonObjectFormat()
            case _:
                spec = attrs.get("json_schema")
                if spec is None:
                    raise serializers.ValidationError(
                        {"json_schema": serializers.ErrorDetail("This field is required.", code="required")}
                    )
                # No schema at all means "some JSON object".
                return JsonSchemaFormat(schema=spec.get("schema") or {"type": "object"}, name=spec["name"])


class StopField(InputOnlyField[Any]):
    default_error_messages = {"invalid": "Expected a string or an array of strings."}

    def to_internal_value(self, data: Any) -> Any:
        if not (isinstance(data, str) or (isinstance(data, list) and all(isinstance(s, str) for s in data))):
            self.fail("invalid")
        return data


class ChatCompletionRequestSerializer(SharedFieldsSerializer):
    # --- mapped ---
    model = serializers.CharField(max_length=MODEL_MAX_LENGTH, validators=[printable])
    messages = MessageSerializer(many=True, allow_empty=False)
    max_completion_tokens = serializers.IntegerField(min_value=1, max_value=MAX_OUTPUT_TOKENS, **_NULLABLE)
    max_tokens = serializers.IntegerField(min_value=1, max_value=MAX_OUTPUT_TOKENS, **_NULLABLE)
    stream = serializers.BooleanField(**_NULLABLE)
    stream_options = StreamOptionsSerializer(**_NULLABLE)
    # A list built explicitly: ``many=True, allow_null=True`` would let each *tool* be null too.
    tools = serializers.ListSerializer(child=ToolSerializer(), **_NULLABLE)
    tool_choice = ToolChoiceField(**_NULLABLE)
    parallel_tool_calls = serializers.BooleanField(**_NULLABLE)
    response_format = ResponseFormatSerializer(**_NULLABLE)
    reasoning_effort = serializers.ChoiceField(REASONING_EFFORTS, **_NULLABLE)
    user = serializers.CharField(allow_blank=True, max_length=USER_MAX_LENGTH, **_NULLABLE)
    metadata = serializers.DictField(
        child=serializers.CharField(max_length=METADATA_VALUE_MAX_LENGTH, allow_blank=True, trim_whitespace=False),
        **_NULLABLE,
    )
    # --- accepted and ignored ---
    temperature = serializers.FloatField(min_value=0, max_value=2, **_NULLABLE)
    top_p = serializers.FloatField(min_value=0, max_value=1, **_NULLABLE)
    seed = serializers.IntegerField(**_NULLABLE)
    stop = StopField(**_NULLABLE)
    frequency_penalty = serializers.FloatField(min_value=-2, max_value=2, **_NULLABLE)
    presence_penalty = serializers.FloatField(min_value=-2, max_value=2, **_NULLABLE)
    logit_bias = serializers.DictField(child=serializers.IntegerField(min_value=-100, max_value=100), **_NULLABLE)
    store = serializers.BooleanField(**_NULLABLE)
    service_tier = serializers.CharField(max_length=TOKEN_MAX_LENGTH, **_NULLABLE)
    safety_identifier = serializers.CharField(allow_blank=True, max_length=SAFETY_IDENTIFIER_MAX_LENGTH, **_NULLABLE)
    prompt_cache_key = serializers.CharField(allow_blank=True, max_length=PROMPT_CACHE_KEY_MAX_LENGTH, **_NULLABLE)
    prompt_cache_retention = serializers.CharField(max_length=TOKEN_MAX_LENGTH, **_NULLABLE)
    prompt_cache_options = serializers.DictField(**_NULLABLE)
    verbosity = serializers.ChoiceField(["low", "medium", "high"], **_NULLABLE)
    # Extensions open-source clients send through ``extra_body`` (docs/chat-completions.md).
    top_k = serializers.IntegerField(**_NULLABLE)
    min_p = serializers.FloatField(**_NULLABLE)
    repetition_penalty = serializers.FloatField(**_NULLABLE)
    chat_template_kwargs = serializers.DictField(**_NULLABLE)
    # --- refused unless harmless ---
    n = serializers.IntegerField(min_value=1, max_value=128, **_NULLABLE)
    logprobs = serializers.BooleanField(**_NULLABLE)
    top_logprobs = serializers.IntegerField(min_value=0, max_value=20, **_NULLABLE)
    modalities = serializers.ListField(child=serializers.ChoiceField(["text", "audio"]), **_NULLABLE)
    audio = serializers.JSONField(**_NULLABLE)
    prediction = serializers.JSONField(**_NULLABLE)
    web_search_options = serializers.JSONField(**_NULLABLE)
    moderation = serializers.JSONField(**_NULLABLE)
    functions = serializers.JSONField(**_NULLABLE)
    function_call = serializers.JSONField(**_NULLABLE)

    @classmethod
    def parse(cls, data: Any) -> ChatCompletionRequest:
        """The validated request, or ``InvalidRequest`` naming the first offending field."""
        if not isinstance(data, dict):
            raise InvalidRequest("The request body must be a JSON object.")
        unknown = [key for key in data if key not in cls._declared_fields]
        if unknown:
            noun = "argument" if len(unknown) == 1 else "arguments"
            raise InvalidRequest(f"Unrecognized request {noun} supplied: {', '.join(unknown)}")
        check_sendable_json(data)
        serializer = cls(data=data)
        if not serializer.is_valid():
            raise _invalid_request(serializer.errors)
        request: ChatCompletionRequest = serializer.validated_data
        return _with_checked_schemas(request)

    def validate_n(self, value: int | None) -> int | None:
        if value is not None and value > 1:
            raise refuse("Only one choice per request is supported (n must be 1).", code="unsupported_value")
        return value

    def validate_logprobs(self, value: bool | None) -> bool | None:
        if value:
            raise refuse("logprobs are not supported: the inference upstream does not report them.")
        return value

    def validate_top_logprobs(self, value: int | None) -> int | None:
        if value:
            raise refuse("top_logprobs are not supported: the inference upstream does not report them.")
        return value

    def validate_modalities(self, value: list[str] | None) -> list[str] | None:
        if value and "audio" in value:
            raise refuse("Only the text modality is supported.", code="unsupported_value")
        return value

    def validate_metadata(self, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            if len(value) > METADATA_MAX_PAIRS:
                raise invalid(f"metadata may hold at most {METADATA_MAX_PAIRS} key-value pairs.")
            if any(len(key) > METADATA_KEY_MAX_LENGTH for key in value):
                raise invalid(f"metadata keys may be at most {METADATA_KEY_MAX_LENGTH} characters long.")
        return value

    def validate(self, attrs: dict[str, Any]) -> ChatCompletionRequest:
        for name, why in _REFUSED_WHEN_SET.items():
            if attrs.get(name) is not None:
                raise serializers.ValidationError({name: refuse(why).detail})
        tools = tuple(attrs.get("tools") or ())
        tool_choice: ToolChoice | None = attrs.get("tool_choice")
        _check_tool_choice(tool_choice, {tool.name for tool in tools})
        stream_options = attrs.get("stream_options") or {}
        template_kwargs = attrs.get("chat_template_kwargs") or {}
        enable_thinking = template_kwargs.get("enable_thinking")
        max_tokens = attrs.get("max_completion_tokens")
        return ChatCompletionRequest(
            model=attrs["model"],
            messages=tuple(attrs["messages"]),
            stream=bool(attrs.get("stream")),
            include_usage=bool(stream_options.get("include_usage")),
            max_tokens=max_tokens if max_tokens is not None else attrs.get("max_tokens"),
            tools=tools,
            tool_choice=tool_choice,
            parallel_tool_calls=attrs.get("parallel_tool_calls") is not False,
            response_format=attrs.get("response_format"),
            reasoning_effort=attrs.get("reasoning_effort"),
            enable_thinking=enable_thinking if isinstance(enable_thinking, bool) else None,
        )


def _with_checked_schemas(request: ChatCompletionRequest) -> ChatCompletionRequest:
    """Tool parameters reduced to what Paddler is sent and the grammar schema checked, all
    under one budget (compat_api/schema_budget.py)."""
    budget = SchemaBudget()
    tools = tuple(
        replace(
            tool,
            parameters=reduced_tool_parameters(
                tool.parameters, param=f"tools[{index}].function.parameters", budget=budget
            ),
        )
        for index, tool in enumerate(request.tools)
    )
    if isinstance(request.response_format, JsonSchemaFormat):
        check_grammar_schema(request.response_format.schema, param="response_format.json_schema.schema", budget=budget)
    return replace(request, tools=tools)


_REFUSED_WHEN_SET: dict[str, str] = {
    "audio": "Audio output is not supported.",
    "prediction": "Predicted outputs are not supported.",
    "web_search_options": "Web search is not supported.",
    "moderation": "Moderated completions are not supported.",
    "functions": "The deprecated 'functions' parameter is not supported; use 'tools'.",
    "function_call": "The deprecated 'function_call' parameter is not supported; use 'tool_choice'.",
}


def _check_tool_choice(tool_choice: ToolChoice | None, tool_names: set[str]) -> None:
    if tool_choice is None or tool_choice.mode == "none":
        return
    if not tool_names and (tool_choice.mode == "required" or tool_choice.names is not None):
        raise serializers.ValidationError({"tool_choice": invalid("tool_choice requires 'tools' to be set.").detail})
    for name in tool_choice.names or ():
        if name not in tool_names:
            raise serializers.ValidationError(
                {"tool_choice": invalid(f"tool_choice names the function '{name}', which is not in 'tools'.").detail}
            )


_TYPE_CODES = frozenset({"invalid", "null", "not_a_list", "not_a_dict"})


def _invalid_request(detail: Any) -> InvalidRequest:
    param, message, code = first_validation_error(detail)
    if code in VERBATIM_CODES:
        return InvalidRequest(message, param=param, code=code)
    if code == "required":
        return InvalidRequest(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")
    where = f"Invalid value for '{param}'" if param else "Invalid request"
    return InvalidRequest(
        f"{where}: {message}", param=param, code="invalid_type" if code in _TYPE_CODES else "invalid_value"
    )
