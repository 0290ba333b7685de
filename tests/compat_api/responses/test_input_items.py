"""Responses input items in, the conversation Paddler renders out."""

from __future__ import annotations

import pytest

from compat_api.responses.input_item import (
    CustomToolCallItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputImage,
    InputItem,
    InputText,
    MessageItem,
    OpaqueItem,
    OutputText,
    ReasoningItem,
    Refusal,
)
from compat_api.responses.input_items import conversation_messages
from paddler_protocol.conversation_params import ConversationMessage, ImagePart, TextPart

PNG = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize(
    ("items", "instructions", "expected"),
    [
        pytest.param(
            [MessageItem("user", "Hi")],
            "Be brief.",
            [ConversationMessage("system", "Be brief."), ConversationMessage("user", "Hi")],
            id="instructions come first as system",
        ),
        pytest.param(
            [MessageItem("developer", "Rules."), MessageItem("user", "Hi")],
            None,
            [ConversationMessage("system", "Rules."), ConversationMessage("user", "Hi")],
            id="developer becomes system",
        ),
        pytest.param(
            [MessageItem("user", (InputText("a"), InputText("b")))],
            None,
            [ConversationMessage("user", "ab")],
            id="text parts of one message join into a string as chat joins them",
        ),
        pytest.param(
            [MessageItem("user", (InputText("What is it?"), InputImage(PNG)))],
            None,
            [ConversationMessage("user", (TextPart("What is it?"), ImagePart(PNG)))],
            id="data-url images stay image parts",
        ),
        pytest.param(
            [
                MessageItem("user", "Hi"),
                MessageItem("assistant", (OutputText("Hello!"),), id="msg_1"),
                MessageItem("user", "Bye"),
            ],
            None,
            [
                ConversationMessage("user", "Hi"),
                ConversationMessage("assistant", "Hello!"),
                ConversationMessage("user", "Bye"),
            ],
            id="replayed output_text is kept",
        ),
        pytest.param(
            [MessageItem("assistant", (Refusal("I can't."),))],
            None,
            [ConversationMessage("assistant", "I can't.")],
            id="a replayed refusal is kept as the assistant's words",
        ),
        pytest.param(
            [MessageItem("user", "one"), MessageItem("user", "two")],
            None,
            [ConversationMessage("user", "one\n\ntwo")],
            id="consecutive same-role messages merge with a blank line",
        ),
        pytest.param(
            [MessageItem("system", "A"), MessageItem("developer", "B")],
            "I",
            [ConversationMessage("system", "I\n\nA\n\nB")],
            id="instructions and system messages merge",
        ),
        pytest.param(
            [MessageItem("user", "look"), MessageItem("user", (InputImage(PNG), InputText("this")))],
            None,
            [ConversationMessage("user", (TextPart("look"), ImagePart(PNG), TextPart("this")))],
            id="merging with an image keeps the parts in order",
        ),
        pytest.param(
            [
                MessageItem("user", "Weather in Paris and Rome?"),
                ReasoningItem(content=("thinking",), id="rs_1"),
                FunctionCallItem("call_a", "get_weather", '{"city":"Paris"}', id="fc_1"),
                FunctionCallItem("call_b", "get_weather", '{"city":"Rome"}'),
                FunctionCallOutputItem("call_a", "18C"),
                FunctionCallOutputItem("call_b", (InputText("21C"),)),
            ],
            None,
            [
                ConversationMessage("user", "Weather in Paris and Rome?"),
                ConversationMessage(
                    "assistant",
                    '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}, '
                    '"id": "call_a"}</tool_call>\n'
                    '<tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}, '
                    '"id": "call_b"}</tool_call>',
                ),
                ConversationMessage(
                    "tool", '<tool_result tool_call_id="call_a" name="get_weather">\n18C\n</tool_result>'
                ),
                ConversationMessage(
                    "tool", '<tool_result tool_call_id="call_b" name="get_weather">\n21C\n</tool_result>'
                ),
            ],
            id="calls render as chat renders them, results as separate tool turns naming their call",
        ),
        pytest.param(
            [FunctionCallItem("call_a", "f", "not json")],
            None,
            [
                ConversationMessage(
                    "assistant", '<tool_call>{"name": "f", "arguments": "not json", "id": "call_a"}</tool_call>'
                )
            ],
            id="arguments that are not JSON stay a string",
        ),
        pytest.param(
            [FunctionCallOutputItem("call_x", "ok")],
            None,
            [ConversationMessage("tool", '<tool_result tool_call_id="call_x">\nok\n</tool_result>')],
            id="a result whose call is not in the conversation still carries its call id",
        ),
        pytest.param(
            [
                MessageItem("assistant", "Let me patch it."),
                CustomToolCallItem("call_p", "apply_patch", "*** Begin Patch"),
            ],
            None,
            [
                ConversationMessage(
                    "assistant",
                    'Let me patch it.\n\n<tool_call>{"name": "apply_patch", '
                    '"arguments": "*** Begin Patch", "id": "call_p"}</tool_call>',
                )
            ],
            id="assistant text and a following call share the assistant turn",
        ),
        pytest.param(
            [
                MessageItem("user", "Search"),
                OpaqueItem("web_search_call", {"status": "completed"}),
                ReasoningItem(summary=("s",)),
            ],
            None,
            [ConversationMessage("user", "Search")],
            id="reasoning and items the model cannot read are dropped",
        ),
    ],
)
def test_conversation_messages(items: list[InputItem], instructions: str | None, expected: list[ConversationMessage]):
    assert conversation_messages(items, instructions=instructions) == tuple(expected)


def test_empty_instructions_add_no_system_message():
    assert conversation_messages([MessageItem("user", "Hi")], instructions="") == (ConversationMessage("user", "Hi"),)


def test_a_tool_output_with_an_image_carries_the_image():
    item = FunctionCallOutputItem("call_a", (InputText("see"), InputImage(PNG)))

    assert conversation_messages([item]) == (
        ConversationMessage(
            "tool", (TextPart('<tool_result tool_call_id="call_a">\nsee\n</tool_result>'), ImagePart(PNG))
        ),
    )
