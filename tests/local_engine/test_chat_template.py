from __future__ import annotations

from collections.abc import Sequence

import pytest

from local_engine.builtin_chat_templates import (
    CHATML_TEMPLATE,
    GEMMA_TEMPLATE,
    builtin_chat_template,
)
from local_engine.chat_template import ChatTemplate, SpecialTokens
from local_engine.errors import GenerationFailure
from paddler_protocol.conversation_params import ConversationMessage, FunctionTool, TextPart

GEMMA_TOKENS = SpecialTokens(bos_token="<bos>", eos_token="<eos>")


def render(
    source: str,
    messages: Sequence[ConversationMessage],
    *,
    tools: Sequence[FunctionTool] = (),
    add_generation_prompt: bool = True,
    enable_thinking: bool = False,
) -> str:
    return ChatTemplate(source).render(
        messages=messages,
        tools=tools,
        add_generation_prompt=add_generation_prompt,
        enable_thinking=enable_thinking,
        special_tokens=GEMMA_TOKENS,
    )


def test_gemma_template_folds_the_system_prompt_into_the_first_user_turn() -> None:
    prompt = render(
        GEMMA_TEMPLATE,
        [ConversationMessage("system", "Be brief."), ConversationMessage("user", "Hi ")],
    )
    assert prompt == ("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n")


def test_gemma_template_names_the_assistant_model_and_renders_text_parts() -> None:
    prompt = render(
        GEMMA_TEMPLATE,
        [
            ConversationMessage("user", (TextPart("One"), TextPart("Two"))),
            ConversationMessage("assistant", "Three"),
        ],
        add_generation_prompt=False,
    )
    assert prompt == ("<bos><start_of_turn>user\nOneTwo<end_of_turn>\n<start_of_turn>model\nThree<end_of_turn>\n")


def test_a_template_raise_exception_is_a_chat_template_error_with_its_message() -> None:
    with pytest.raises(GenerationFailure) as caught:
        render(GEMMA_TEMPLATE, [ConversationMessage("assistant", "I speak first")])
    assert caught.value.kind == "ChatTemplateError"
    assert "Conversation roles must alternate" in caught.value.message


def test_a_template_that_does_not_compile_fails_each_render_with_chat_template_error() -> None:
    with pytest.raises(GenerationFailure) as caught:
        render("{% for m in messages %}", [ConversationMessage("user", "Hi")])
    assert caught.value.kind == "ChatTemplateError"


def test_a_template_that_breaks_while_rendering_is_a_chat_template_error() -> None:
    with pytest.raises(GenerationFailure) as caught:
        render("{{ messages[0]['content'] + 1 }}", [ConversationMessage("user", "Hi")])
    assert caught.value.kind == "ChatTemplateError"


def test_the_template_sees_paddlers_context_keys() -> None:
    source = (
        "{{ bos_token }}|{{ eos_token }}|{{ nl_token == '\n' }}|{{ enable_thinking }}|"
        "{{ add_generation_prompt }}|{{ tools[0].function.name }}|{{ tools | tojson }}"
    )
    prompt = render(
        source,
        [ConversationMessage("user", "Hi")],
        tools=[FunctionTool("météo", "", None)],
        enable_thinking=True,
    )
    assert prompt == (
        '<bos>|<eos>|True|True|True|météo|[{"type": "function", "function": {"name": "météo", "description": ""}}]'
    )


def test_unknown_families_fall_back_to_chatml() -> None:
    assert builtin_chat_template("gemma3") is GEMMA_TEMPLATE
    assert builtin_chat_template("llama") is CHATML_TEMPLATE
    assert render(CHATML_TEMPLATE, [ConversationMessage("user", "Hi")]) == (
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )
