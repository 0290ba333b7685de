"""Consecutive turns of one role merged into one turn; tool results are never merged.

Many chat templates (Gemma's, Mistral's) refuse turns that do not alternate, so both endpoints
merge before sending: texts are joined by a blank line, and where images are involved the
parts stay in order with the two texts that meet at the seam joined into one part, so a
template sees text, image, text — never text, text. Each tool result answers its own call and
stays its own turn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

from paddler_protocol.conversation_params import ContentPart, ConversationMessage, TextPart

MERGE_SEPARATOR = "\n\n"
# Consecutive rendered calls are joined as the calls of one assistant message are: a line each.
CALL_SEPARATOR = "\n"

Content: TypeAlias = str | tuple[ContentPart, ...]


@dataclass(frozen=True, slots=True)
class Turn:
    message: ConversationMessage
    # The turn is one rendered tool call and nothing else.
    is_call: bool = False


def merge_consecutive_turns(turns: Iterable[Turn], *, skip_empty_texts: bool) -> tuple[ConversationMessage, ...]:
    """``skip_empty_texts``: chat has always joined only the non-empty texts (an empty string
    turn vanishes into its neighbour), Responses every text as sent; both are kept as they were
    until one rule is chosen for both."""
    merged: list[Turn] = []
    for turn in turns:
        previous = merged[-1] if merged else None
        role = turn.message.role
        if previous is None or previous.message.role != role or role == "tool":
            merged.append(turn)
            continue
        separator = CALL_SEPARATOR if previous.is_call and turn.is_call else MERGE_SEPARATOR
        content = _joined(previous.message.content, turn.message.content, separator, skip_empty_texts)
        # The merged turn ends with the later turn, so that turn decides the next separator.
        merged[-1] = Turn(ConversationMessage(role, content), turn.is_call)
    return tuple(turn.message for turn in merged)


def _joined(first: Content, second: Content, separator: str, skip_empty: bool) -> Content:
    if isinstance(first, str) and isinstance(second, str):
        return _joined_text(first, second, separator, skip_empty)
    left, right = _as_parts(first, skip_empty), _as_parts(second, skip_empty)
    if left and right and isinstance(left[-1], TextPart) and isinstance(right[0], TextPart):
        seam = TextPart(_joined_text(left[-1].text, right[0].text, separator, skip_empty))
        return (*left[:-1], seam, *right[1:])
    return (*left, *right)


def _joined_text(first: str, second: str, separator: str, skip_empty: bool) -> str:
    if skip_empty:
        return separator.join(text for text in (first, second) if text)
    return first + separator + second


def _as_parts(content: Content, skip_empty: bool) -> tuple[ContentPart, ...]:
    if isinstance(content, str):
        return () if skip_empty and not content else (TextPart(content),)
    return content
