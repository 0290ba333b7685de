"""Classify each sampled token like Paddler's agent and count it (protocol reference 2.1).

One classifier per request. It tracks the section the model is in using the model's marker
tokens (``section_markers``): text inside a thinking section is reasoning, text inside a
tool-call section is tool-call text, the rest is content. Marker tokens are counted in the
section they open or close but never emitted. Every token increments exactly one counter.

For a model without recognised markers the section cannot be determined, so — exactly like
Paddler with such a model — every token is an ``UndeterminableToken`` and counts as
``undeterminable_tokens``. Oarlock (and Paddler's own OpenAI layer) shows those as content, so
clients see the same text, and the local engine exercises the same path a Paddler cluster
serving Gemma 3 would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, assert_never

from local_engine.section_markers import SectionMarkers
from local_engine.tool_call_section import (
    ToolCallSectionUnparsable,
    parse_tool_call_section,
)
from local_engine.tool_call_validation import tool_call_errors
from paddler_protocol.conversation_params import FunctionTool
from paddler_protocol.paddler_message import (
    ContentToken,
    PaddlerMessage,
    ReasoningToken,
    ToolCallParsed,
    ToolCallParseFailed,
    ToolCallToken,
    ToolCallValidationFailed,
    UndeterminableToken,
)
from paddler_protocol.token_usage import TokenUsage

Section = Literal["content", "reasoning", "tool_call", "undeterminable"]


@dataclass(frozen=True, slots=True)
class ToolCallParsing:
    """Present when the request asked for ``parse_tool_calls``."""

    tools: tuple[FunctionTool, ...]
    new_call_id: Callable[[], str]


class TokenClassifier:
    def __init__(
        self,
        markers: SectionMarkers,
        *,
        starts_in_reasoning: bool = False,
        tool_call_parsing: ToolCallParsing | None = None,
    ) -> None:
        self._markers = markers
        self._tool_call_parsing = tool_call_parsing
        self._section: Section = "content" if markers.recognised else "undeterminable"
        if starts_in_reasoning and markers.thinking is not None:
            self._section = "reasoning"
        self._counts: dict[Section, int] = dict.fromkeys(("content", "reasoning", "tool_call", "undeterminable"), 0)
        self._tool_call_text: list[str] = []

    @property
    def max_tokens_counted(self) -> int:
        """What ``max_tokens`` limits: everything but tool-call tokens (reference 2.3)."""
        return self._counts["content"] + self._counts["reasoning"] + self._counts["undeterminable"]

    def usage(self, *, prompt_tokens: int) -> TokenUsage:
        return TokenUsage(
            prompt_tokens=prompt_tokens,
            content_tokens=self._counts["content"],
            reasoning_tokens=self._counts["reasoning"],
            tool_call_tokens=self._counts["tool_call"],
            undeterminable_tokens=self._counts["undeterminable"],
        )

    def on_token(self, token_text: str, visible_text: str) -> list[PaddlerMessage]:
        """Count one sampled token and return what to emit for it.

        ``token_text`` is the token's full text (special tokens rendered) and is compared with
        the markers; ``visible_text`` is what a client may see (empty for control tokens and for
        a token that ends inside a multi-byte character).
        """
        marker_messages = self._on_marker(token_text)
        if marker_messages is not None:
            return marker_messages
        self._counts[self._section] += 1
        return self.on_text(visible_text)

    def on_text(self, text: str) -> list[PaddlerMessage]:
        """Emit text in the current section without counting a token (decoder leftovers)."""
        if not text:
            return []
        if self._section == "tool_call":
            self._tool_call_text.append(text)
        return [_token_message(self._section, text)]

    def on_end(self) -> list[PaddlerMessage]:
        """Generation stopped: a tool-call section still open is parsed as it is."""
        if self._section == "tool_call":
            return self._close_tool_call()
        return []

    def _on_marker(self, token_text: str) -> list[PaddlerMessage] | None:
        thinking, tool_call = self._markers.thinking, self._markers.tool_call
        if thinking is not None:
            if token_text == thinking.open and self._section == "content":
                self._counts["reasoning"] += 1
                self._section = "reasoning"
                return []
            if token_text == thinking.close and self._section == "reasoning":
                self._counts["reasoning"] += 1
                self._section = "content"
                return []
        if tool_call is not None:
            if token_text == tool_call.open and self._section == "content":
                self._counts["tool_call"] += 1
                self._section = "tool_call"
                return []
            if token_text == tool_call.close and self._section == "tool_call":
                self._counts["tool_call"] += 1
                return self._close_tool_call()
        return None

    def _close_tool_call(self) -> list[PaddlerMessage]:
        self._section = "content"
        text, self._tool_call_text = "".join(self._tool_call_text), []
        parsing = self._tool_call_parsing
        if parsing is None:
            return []
        try:
            calls = parse_tool_call_section(text, parsing.new_call_id)
        except ToolCallSectionUnparsable as error:
            return [ToolCallParseFailed(error.message)]
        errors = tool_call_errors(calls, parsing.tools)
        if errors:
            return [ToolCallValidationFailed(tuple(errors))]
        return [ToolCallParsed(calls)]


def _token_message(section: Section, text: str) -> PaddlerMessage:
    match section:
        case "content":
            return ContentToken(text)
        case "reasoning":
            return ReasoningToken(text)
        case "tool_call":
            return ToolCallToken(text)
        case "undeterminable":
            return UndeterminableToken(text)
        case _:
            assert_never(section)
