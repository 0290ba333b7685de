"""Turn request params into the text to tokenise, refusing what Paddler's agent refuses first.

Conversation requests are checked (grammar with thinking, images on a text-only model) and
rendered with the chat template; raw prompts are used as they are, with BOS added
(protocol reference 1.2, 1.3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from local_engine.chat_template import ChatTemplate
from local_engine.errors import GenerationFailure
from local_engine.model_facts import ModelFacts
from local_engine.section_markers import prompt_opens_thinking
from local_engine.token_classifier import ToolCallParsing
from paddler_protocol.conversation_params import (
    ConversationParams,
    GrammarConstraint,
    ImagePart,
    RawPromptParams,
)

GRAMMAR_WITH_THINKING = "Grammar constraints are incompatible with thinking mode"
MULTIMODAL_NOT_SUPPORTED = (
    "This model cannot take images: the local engine runs text-only models (no multimodal projector is loaded)"
)


@dataclass(frozen=True, slots=True)
class PreparedPrompt:
    text: str
    add_bos: bool
    max_tokens: int
    grammar: GrammarConstraint | None
    starts_in_reasoning: bool = False
    tool_call_parsing: ToolCallParsing | None = None


def prepare_prompt(
    params: ConversationParams | RawPromptParams,
    *,
    model: ModelFacts,
    template: ChatTemplate,
    new_call_id: Callable[[], str],
) -> PreparedPrompt:
    if isinstance(params, RawPromptParams):
        return PreparedPrompt(
            text=params.raw_prompt, add_bos=True, max_tokens=params.max_tokens, grammar=params.grammar
        )
    if params.grammar is not None and params.enable_thinking:
        raise GenerationFailure("GrammarIncompatibleWithThinking", GRAMMAR_WITH_THINKING)
    if any(
        isinstance(part, ImagePart)
        for message in params.conversation_history
        if not isinstance(message.content, str)
        for part in message.content
    ):
        raise GenerationFailure("MultimodalNotSupported", MULTIMODAL_NOT_SUPPORTED)
    text = template.render(
        messages=params.conversation_history,
        tools=params.tools,
        add_generation_prompt=params.add_generation_prompt,
        enable_thinking=params.enable_thinking,
        special_tokens=model.special_tokens,
    )
    bos = model.special_tokens.bos_token
    return PreparedPrompt(
        text=text,
        # Templates usually write BOS themselves; add it only when this one did not.
        add_bos=not (bos and text.startswith(bos)),
        max_tokens=params.max_tokens,
        grammar=params.grammar,
        starts_in_reasoning=prompt_opens_thinking(text, model.markers),
        tool_call_parsing=(
            ToolCallParsing(tools=params.tools, new_call_id=new_call_id) if params.parse_tool_calls else None
        ),
    )
