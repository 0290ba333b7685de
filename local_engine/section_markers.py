"""The marker tokens that open and close a model's thinking and tool-call sections.

Paddler's agent classifies every sampled token by the section it is in, using marker tokens it
recognises for the model (protocol reference 2.1). We recognise a pair when both of its texts
are single tokens of the model's vocabulary: then the model was trained to emit them as one unit
and a sampled token can be compared with the marker exactly. Gemma 3 has none of these tokens, so
its output is undeterminable (see ``token_classifier``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MarkerPair:
    open: str
    close: str


@dataclass(frozen=True, slots=True)
class SectionMarkers:
    thinking: MarkerPair | None = None
    tool_call: MarkerPair | None = None

    @property
    def recognised(self) -> bool:
        return self.thinking is not None or self.tool_call is not None


# Qwen3 / DeepSeek-R1 / most reasoning models; Magistral and Ministral reasoning; Command R.
KNOWN_THINKING_MARKERS: tuple[MarkerPair, ...] = (
    MarkerPair("<think>", "</think>"),
    MarkerPair("[THINK]", "[/THINK]"),
    MarkerPair("<|START_THINKING|>", "<|END_THINKING|>"),
)
# Hermes-style JSON tool calls (Qwen 2.5/3, Hermes, many fine-tunes): the only section format
# ``tool_call_section`` can parse, so the only one recognised.
KNOWN_TOOL_CALL_MARKERS: tuple[MarkerPair, ...] = (MarkerPair("<tool_call>", "</tool_call>"),)


def detect_section_markers(is_single_token: Callable[[str], bool]) -> SectionMarkers:
    return SectionMarkers(
        thinking=_first_known(KNOWN_THINKING_MARKERS, is_single_token),
        tool_call=_first_known(KNOWN_TOOL_CALL_MARKERS, is_single_token),
    )


def _first_known(candidates: tuple[MarkerPair, ...], is_single_token: Callable[[str], bool]) -> MarkerPair | None:
    for pair in candidates:
        if is_single_token(pair.open) and is_single_token(pair.close):
            return pair
    return None


def prompt_opens_thinking(prompt: str, markers: SectionMarkers) -> bool:
    """Whether the rendered prompt ends inside an open thinking section.

    Some templates (Qwen3.5, DeepSeek-R1) put the opening marker into the generation prompt, so
    the model's first token is already reasoning.
    """
    if markers.thinking is None:
        return False
    opened = prompt.rfind(markers.thinking.open)
    return opened != -1 and prompt.rfind(markers.thinking.close) < opened
