"""Hypothesis strategies for /v1 request bodies: valid, near-valid and hostile.

Each part of a body is drawn mostly from shapes a real client sends and sometimes from any JSON
value at all (a wrong type, a null, a nested mess), so generated bodies cover what Oarlock must
accept, what it must refuse with a ``param``, and the edges in between. Shared by the property
test (tests/compat_api/test_forwarded_requests_property.py) and the fuzzing job (tests/fuzz/).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

TYPE_NAMES = ["object", "string", "number", "integer", "boolean", "array", "null"]
NAMES = st.sampled_from(["a", "b", "city", "unit", "x"])
REFERENCES = st.sampled_from(
    [
        "#/$defs/A",
        "#/$defs/B",
        "#/definitions/A",
        "#",
        "#/properties/a",
        "#/$defs/Missing",
        "https://example.com/s.json",
        "A",
    ]
)
IMAGE_URLS = st.sampled_from(
    [
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
        "https://example.com/cat.png",
        "",
        "data:",
        "DATA:image/jpeg;base64,/9j/",
    ]
)
# Unicode that tends to break things: controls, separators, astral planes, combining marks.
# Lone surrogates are valid to Python's JSON parser and invalid UTF-8 to everything else.
EDGE_TEXT = st.sampled_from(
    ["", " ", "\n", "\x00", "\u2028", "\ufeff", "😀", "e\u0301", "\U0010ffff", "Ω" * 3, "\ud800", "a\udfffb"]
)
SHORT_TEXT = st.text(max_size=12) | EDGE_TEXT

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | SHORT_TEXT
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(SHORT_TEXT, children, max_size=3),
    max_leaves=8,
)


def sometimes_wrong(valid: st.SearchStrategy[Any], *, one_in: int = 8) -> st.SearchStrategy[Any]:
    """Mostly ``valid``; one draw in ``one_in`` any JSON value. (``one_of`` would not do: its
    branch choice is not uniform, and the whole body is wrong too often to reach the deep parts.)"""
    return st.integers(1, one_in).flatmap(lambda roll: json_values if roll == 1 else valid)


def _schema_leaf() -> st.SearchStrategy[Any]:
    return st.booleans() | st.fixed_dictionaries(
        {},
        optional={
            "type": sometimes_wrong(st.sampled_from(TYPE_NAMES) | st.lists(st.sampled_from(TYPE_NAMES), max_size=2)),
            "description": sometimes_wrong(SHORT_TEXT),
            "enum": sometimes_wrong(st.lists(json_scalars, min_size=1, max_size=3)),
            "minLength": sometimes_wrong(st.integers(0, 5)),
            "maximum": sometimes_wrong(st.integers(-5, 5)),
            "pattern": sometimes_wrong(st.just("^[a-z]+$")),
            "$ref": REFERENCES,
        },
    )


schema_nodes = st.recursive(
    _schema_leaf(),
    lambda children: st.fixed_dictionaries(
        {},
        optional={
            "type": sometimes_wrong(st.sampled_from(TYPE_NAMES)),
            "properties": sometimes_wrong(st.dictionaries(NAMES, children, max_size=3)),
            "items": children,
            "anyOf": sometimes_wrong(st.lists(children, min_size=1, max_size=2)),
            "required": sometimes_wrong(st.lists(NAMES, max_size=2, unique=True)),
            "additionalProperties": children,
        },
    ),
    max_leaves=6,
)

tool_parameters = sometimes_wrong(
    st.fixed_dictionaries(
        {},
        optional={
            "type": sometimes_wrong(st.just("object") | st.sampled_from(TYPE_NAMES)),
            "properties": sometimes_wrong(st.dictionaries(NAMES, schema_nodes, max_size=3)),
            "required": sometimes_wrong(st.lists(NAMES, max_size=2, unique=True)),
            "additionalProperties": sometimes_wrong(st.booleans()),
            "$defs": st.dictionaries(st.sampled_from(["A", "B"]), schema_nodes, max_size=2),
            "$schema": st.just("http://json-schema.org/draft-07/schema#"),
            "title": SHORT_TEXT,
            "description": SHORT_TEXT,
        },
    )
)

TOOL_NAMES = sometimes_wrong(st.sampled_from(["get_weather", "f", "a-b_c", "bad name", "", "x" * 65]))
MAX_TOKENS = sometimes_wrong(st.integers(-3, 2**33) | st.sampled_from([1, 16, 2**31 - 1, 2**31]))

# --- chat --------------------------------------------------------------------------------------

chat_parts = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": sometimes_wrong(SHORT_TEXT)}),
    st.fixed_dictionaries(
        {
            "type": st.just("image_url"),
            "image_url": sometimes_wrong(
                st.fixed_dictionaries({"url": IMAGE_URLS}, optional={"detail": st.sampled_from(["auto", "low"])})
            ),
        }
    ),
    st.fixed_dictionaries(
        {"type": sometimes_wrong(st.sampled_from(["text", "image_url", "refusal", "input_audio", "file", "video"]))},
        optional={"text": json_values, "refusal": json_values, "image_url": json_values},
    ),
)
chat_content = sometimes_wrong(SHORT_TEXT | st.lists(chat_parts, max_size=3))
replayed_tool_calls = st.lists(
    sometimes_wrong(
        st.fixed_dictionaries(
            {
                "id": SHORT_TEXT,
                "type": st.just("function"),
                "function": sometimes_wrong(
                    st.fixed_dictionaries(
                        {
                            "name": TOOL_NAMES,
                            "arguments": sometimes_wrong(st.just('{"city":"Paris"}') | st.just({"city": "Paris"})),
                        }
                    )
                ),
            }
        )
    ),
    max_size=2,
)
_any_message = st.fixed_dictionaries(
    {"role": sometimes_wrong(st.sampled_from(["system", "developer", "user", "assistant", "tool", "function"]))},
    optional={
        "content": chat_content,
        "tool_calls": sometimes_wrong(replayed_tool_calls),
        "tool_call_id": sometimes_wrong(SHORT_TEXT),
        "name": sometimes_wrong(SHORT_TEXT),
        "reasoning_content": json_values,
    },
)
chat_messages = sometimes_wrong(
    st.one_of(
        st.fixed_dictionaries(
            {"role": st.sampled_from(["system", "developer", "user"]), "content": chat_content},
            optional={"name": SHORT_TEXT},
        ),
        st.fixed_dictionaries(
            {"role": st.just("assistant")},
            optional={
                "content": chat_content | st.none(),
                "tool_calls": replayed_tool_calls,
                "reasoning_content": json_values,
            },
        ),
        st.fixed_dictionaries({"role": st.just("tool"), "tool_call_id": st.just("call_1"), "content": chat_content}),
    ),
    one_in=10,
).flatmap(lambda message: st.just(message) if isinstance(message, dict) else _any_message)
chat_tools = st.fixed_dictionaries(
    {
        "type": sometimes_wrong(st.just("function") | st.just("custom")),
        "function": sometimes_wrong(
            st.fixed_dictionaries(
                {"name": TOOL_NAMES},
                optional={
                    "description": sometimes_wrong(SHORT_TEXT),
                    "parameters": tool_parameters,
                    "strict": st.booleans(),
                },
            )
        ),
    }
)
response_formats = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["text", "json_object"])}),
    st.fixed_dictionaries(
        {
            "type": st.just("json_schema"),
            "json_schema": sometimes_wrong(
                st.fixed_dictionaries(
                    {"name": st.just("answer")},
                    optional={"schema": sometimes_wrong(schema_nodes), "strict": st.booleans()},
                )
            ),
        }
    ),
)
CHAT_OPTIONAL = {
    "tools": sometimes_wrong(st.lists(sometimes_wrong(chat_tools), max_size=3)),
    "tool_choice": sometimes_wrong(
        st.sampled_from(["auto", "none", "required"])
        | st.just({"type": "function", "function": {"name": "get_weather"}})
    ),
    "max_tokens": MAX_TOKENS,
    "max_completion_tokens": MAX_TOKENS,
    "response_format": sometimes_wrong(response_formats),
    "stream": sometimes_wrong(st.booleans()),
    "metadata": sometimes_wrong(st.dictionaries(SHORT_TEXT, SHORT_TEXT, max_size=3)),
    "user": sometimes_wrong(SHORT_TEXT),
    "temperature": sometimes_wrong(st.floats(0, 2)),
    "reasoning_effort": sometimes_wrong(st.sampled_from(["none", "low", "high"])),
    "chat_template_kwargs": sometimes_wrong(st.fixed_dictionaries({}, optional={"enable_thinking": json_values})),
}
chat_bodies = st.fixed_dictionaries(
    {
        "model": sometimes_wrong(st.just("default"), one_in=30),
        "messages": sometimes_wrong(st.lists(chat_messages, min_size=1, max_size=4), one_in=30),
    },
    optional=CHAT_OPTIONAL,
)

# --- responses ---------------------------------------------------------------------------------

responses_parts = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["input_text", "output_text"]), "text": sometimes_wrong(SHORT_TEXT)}
    ),
    st.fixed_dictionaries(
        {"type": st.just("input_image")},
        optional={"image_url": sometimes_wrong(IMAGE_URLS), "file_id": SHORT_TEXT, "detail": st.just("auto")},
    ),
    st.fixed_dictionaries(
        {"type": sometimes_wrong(st.sampled_from(["refusal", "input_file", "input_audio"]))},
        optional={"refusal": json_values, "text": json_values},
    ),
)
responses_items = st.one_of(
    st.fixed_dictionaries(
        {
            "role": sometimes_wrong(st.sampled_from(["user", "assistant", "system", "developer"])),
            "content": sometimes_wrong(SHORT_TEXT | st.lists(responses_parts, max_size=3)),
        },
        optional={"type": st.just("message")},
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("function_call"),
            "call_id": sometimes_wrong(SHORT_TEXT),
            "name": TOOL_NAMES,
            "arguments": sometimes_wrong(st.just('{"a":1}')),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("function_call_output"),
            "call_id": sometimes_wrong(SHORT_TEXT),
            "output": sometimes_wrong(SHORT_TEXT),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": sometimes_wrong(
                st.sampled_from(["reasoning", "web_search_call", "custom_tool_call", "item_reference", "compaction"])
            )
        },
        optional={
            "id": SHORT_TEXT,
            "summary": sometimes_wrong(
                st.lists(
                    sometimes_wrong(st.fixed_dictionaries({"type": st.just("summary_text"), "text": SHORT_TEXT})),
                    max_size=2,
                )
            ),
            "content": sometimes_wrong(
                st.lists(
                    sometimes_wrong(st.fixed_dictionaries({"type": st.just("reasoning_text"), "text": SHORT_TEXT})),
                    max_size=2,
                )
            ),
        },
    ),
)
responses_tools = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("function"), "name": TOOL_NAMES},
        optional={"description": sometimes_wrong(SHORT_TEXT), "parameters": tool_parameters, "strict": st.booleans()},
    ),
    st.fixed_dictionaries({"type": sometimes_wrong(st.sampled_from(["web_search", "file_search", "custom", "mcp"]))}),
)
text_formats = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["text", "json_object"])}),
    st.fixed_dictionaries(
        {"type": st.just("json_schema"), "name": st.just("answer"), "schema": sometimes_wrong(schema_nodes)}
    ),
)
RESPONSES_OPTIONAL = {
    "instructions": sometimes_wrong(SHORT_TEXT),
    "tools": sometimes_wrong(st.lists(responses_tools, max_size=3)),
    "tool_choice": sometimes_wrong(st.sampled_from(["auto", "none", "required"])),
    "max_output_tokens": MAX_TOKENS,
    "text": sometimes_wrong(st.fixed_dictionaries({"format": sometimes_wrong(text_formats)})),
    "reasoning": sometimes_wrong(st.fixed_dictionaries({}, optional={"effort": st.sampled_from(["none", "high"])})),
    "stream": sometimes_wrong(st.booleans()),
    "store": st.just(False),
    "metadata": sometimes_wrong(st.dictionaries(SHORT_TEXT, SHORT_TEXT, max_size=3)),
    "user": sometimes_wrong(SHORT_TEXT),
    "prompt_cache_key": sometimes_wrong(SHORT_TEXT),
}
responses_bodies = st.fixed_dictionaries(
    {
        "model": sometimes_wrong(st.just("default"), one_in=30),
        "input": sometimes_wrong(SHORT_TEXT | st.lists(responses_items, min_size=1, max_size=4), one_in=30),
    },
    optional=RESPONSES_OPTIONAL,
)

# --- whole cases: a full generated body, or a valid body with one part generated -------------

USER = [{"role": "user", "content": "Hi"}]


def chat_with(**parts: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid chat body in which only ``parts`` are generated, so the deep parts are reached."""
    return st.fixed_dictionaries({"model": st.just("default"), "messages": st.just(USER), **parts})


def responses_with(**parts: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"model": st.just("default"), "input": st.just("Hi"), "store": st.just(False), **parts}
    )


def _pick(*options: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Each option equally often (``one_of`` favours its first branches while shrinking)."""
    return st.integers(0, len(options) - 1).flatmap(lambda index: options[index])


chat_cases = _pick(
    chat_bodies,
    chat_with(tools=st.lists(sometimes_wrong(chat_tools), min_size=1, max_size=3)),
    chat_with(messages=st.lists(chat_messages, min_size=1, max_size=4)),
    chat_with(response_format=response_formats),
    chat_with(max_tokens=MAX_TOKENS, max_completion_tokens=MAX_TOKENS),
)
responses_cases = _pick(
    responses_bodies,
    responses_with(tools=st.lists(sometimes_wrong(responses_tools), min_size=1, max_size=3)),
    responses_with(input=st.lists(sometimes_wrong(responses_items), min_size=1, max_size=4)),
    responses_with(text=st.fixed_dictionaries({"format": text_formats})),
    responses_with(max_output_tokens=MAX_TOKENS),
)
