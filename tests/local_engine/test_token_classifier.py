from __future__ import annotations

from itertools import count

from local_engine.section_markers import MarkerPair, SectionMarkers
from local_engine.token_classifier import TokenClassifier, ToolCallParsing
from paddler_protocol.conversation_params import FunctionTool
from paddler_protocol.paddler_message import (
    ContentToken,
    PaddlerMessage,
    ParsedToolCall,
    ReasoningToken,
    ToolCallParsed,
    ToolCallParseFailed,
    ToolCallToken,
    ToolCallValidationFailed,
    UndeterminableToken,
)
from paddler_protocol.token_usage import TokenUsage

QWEN_LIKE = SectionMarkers(
    thinking=MarkerPair("<think>", "</think>"), tool_call=MarkerPair("<tool_call>", "</tool_call>")
)
WEATHER = FunctionTool(
    "get_weather",
    "",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def feed(classifier: TokenClassifier, tokens: list[str]) -> list[PaddlerMessage]:
    messages: list[PaddlerMessage] = []
    for token in tokens:
        messages += classifier.on_token(token, token)
    return messages + classifier.on_end()


def sequential_ids() -> ToolCallParsing:
    numbers = count(1)
    return ToolCallParsing(tools=(WEATHER,), new_call_id=lambda: f"call_{next(numbers)}")


def test_a_model_without_markers_makes_every_token_undeterminable() -> None:
    classifier = TokenClassifier(SectionMarkers())
    assert feed(classifier, ["Hi", " <think>", " there"]) == [
        UndeterminableToken("Hi"),
        UndeterminableToken(" <think>"),
        UndeterminableToken(" there"),
    ]
    assert classifier.usage(prompt_tokens=7) == TokenUsage(prompt_tokens=7, undeterminable_tokens=3)


def test_thinking_markers_are_counted_as_reasoning_but_not_emitted() -> None:
    classifier = TokenClassifier(QWEN_LIKE)
    assert feed(classifier, ["<think>", "Hm", "</think>", "Hi", "!"]) == [
        ReasoningToken("Hm"),
        ContentToken("Hi"),
        ContentToken("!"),
    ]
    assert classifier.usage(prompt_tokens=3) == TokenUsage(prompt_tokens=3, reasoning_tokens=3, content_tokens=2)


def test_a_prompt_that_opened_thinking_starts_in_reasoning() -> None:
    classifier = TokenClassifier(QWEN_LIKE, starts_in_reasoning=True)
    assert feed(classifier, ["Plan", "</think>", "Done"]) == [ReasoningToken("Plan"), ContentToken("Done")]


def test_tool_call_tokens_are_emitted_raw_and_parsed_when_the_section_closes() -> None:
    classifier = TokenClassifier(QWEN_LIKE, tool_call_parsing=sequential_ids())
    messages = feed(
        classifier, ["<tool_call>", '{"name": "get_weather", ', '"arguments": {"city": "Paris"}}', "</tool_call>"]
    )
    assert messages == [
        ToolCallToken('{"name": "get_weather", '),
        ToolCallToken('"arguments": {"city": "Paris"}}'),
        ToolCallParsed((ParsedToolCall("call_1", "get_weather", '{"city":"Paris"}'),)),
    ]
    assert classifier.usage(prompt_tokens=0) == TokenUsage(tool_call_tokens=4)


def test_tool_call_tokens_do_not_count_towards_max_tokens() -> None:
    classifier = TokenClassifier(QWEN_LIKE)
    feed(classifier, ["Ok", "<tool_call>", "{}", "</tool_call>"])
    assert classifier.max_tokens_counted == 1


def test_without_parse_tool_calls_a_closed_section_emits_nothing_more() -> None:
    classifier = TokenClassifier(QWEN_LIKE)
    assert feed(classifier, ["<tool_call>", "{}", "</tool_call>", "ok"]) == [ToolCallToken("{}"), ContentToken("ok")]


def test_a_section_cut_off_by_the_end_of_generation_is_parsed_with_invalid_json_arguments() -> None:
    classifier = TokenClassifier(QWEN_LIKE, tool_call_parsing=sequential_ids())
    messages = feed(classifier, ["<tool_call>", '{"name": "get_weather", "arguments": {"city": "Par'])
    assert messages[-1] == ToolCallParsed(
        (ParsedToolCall("call_1", "get_weather", '{"city": "Par', arguments_valid=False),)
    )


def test_a_section_without_a_tool_name_is_a_parse_failure() -> None:
    classifier = TokenClassifier(QWEN_LIKE, tool_call_parsing=sequential_ids())
    messages = feed(classifier, ["<tool_call>", "call the weather tool", "</tool_call>"])
    assert isinstance(messages[-1], ToolCallParseFailed)


def test_arguments_that_break_the_schema_are_a_validation_failure() -> None:
    classifier = TokenClassifier(QWEN_LIKE, tool_call_parsing=sequential_ids())
    messages = feed(classifier, ["<tool_call>", '{"name": "get_weather", "arguments": {"city": 42}}', "</tool_call>"])
    assert messages[-1] == ToolCallValidationFailed(
        ('arguments for tool "get_weather" failed schema check: 42 is not of type "string"',)
    )


def test_an_unknown_tool_is_a_validation_failure() -> None:
    classifier = TokenClassifier(QWEN_LIKE, tool_call_parsing=sequential_ids())
    messages = feed(classifier, ["<tool_call>", '{"name": "launch", "arguments": {}}', "</tool_call>"])
    assert messages[-1] == ToolCallValidationFailed(('unknown tool name "launch"',))


def test_an_empty_visible_piece_is_counted_but_not_emitted() -> None:
    classifier = TokenClassifier(SectionMarkers())
    assert classifier.on_token("<start_of_turn>", "") == []
    assert classifier.usage(prompt_tokens=0).undeterminable_tokens == 1
