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
from itertools import pairwise
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
    until one rule is chosen for both.

    Linear in the conversation: each run of one role is joined once, at its end. Joining turn by
    turn copied the growing text (or parts) at every turn, so a 4 MiB body of one-character
    messages cost seconds."""
    runs: list[list[Turn]] = []
    for turn in turns:
        role = turn.message.role
        if runs and runs[-1][-1].message.role == role and role != "tool":
            runs[-1].append(turn)
        else:
            runs.append([turn])
    return tuple(_merged(run, skip_empty_texts) for run in runs)


def _merged(run: list[Turn], skip_empty: bool) -> ConversationMessage:
    if len(run) == 1:
        return run[0].message
    content = _MergedContent(run[0].message.content, skip_empty)
    for previous, turn in pairwise(run):
        # The separator is chosen by the two turns that meet: a line between two rendered calls.
        content.add(turn.message.content, CALL_SEPARATOR if previous.is_call and turn.is_call else MERGE_SEPARATOR)
    return ConversationMessage(run[0].message.role, content.value())


class _MergedContent:
    """The content of merged turns, built in one pass: texts are joined by the separator; where
    parts are involved they stay in order, and the two texts that meet at a seam become one
    part. The text being extended is kept as a list of pieces until the end."""

    def __init__(self, content: Content, skip_empty: bool) -> None:
        self._skip_empty = skip_empty
        self._parts: list[ContentPart] | None = None  # None while the content is one string
        self._tail: list[str] | None = None  # the trailing text, in pieces; None: no text there
        if isinstance(content, str):
            self._start_tail(content)
        else:
            self._parts = []
            self._add_parts(content, "")

    def add(self, content: Content, separator: str) -> None:
        if isinstance(content, str):
            if self._parts is not None and self._skip_empty and not content:
                return  # an empty string is no part at all
            if self._tail is None:
                self._start_tail(content)
            else:
                self._extend_tail(content, separator)
            return
        if self._parts is None:
            # A string meets parts: it becomes a text part, or nothing when empty and skipped.
            self._parts = []
            if self._skip_empty and self._tail_is_empty():
                self._tail = None
        self._add_parts(content, separator)

    def value(self) -> Content:
        tail = None if self._tail is None else "".join(self._tail)
        if self._parts is None:
            assert tail is not None  # one string: its text is the tail
            return tail
        return (*self._parts, TextPart(tail)) if tail is not None else tuple(self._parts)

    def _add_parts(self, parts: tuple[ContentPart, ...], separator: str) -> None:
        assert self._parts is not None
        if not parts:
            return
        first, rest = parts[0], parts[1:]
        if isinstance(first, TextPart) and self._tail is not None:
            self._extend_tail(first.text, separator)
        else:
            rest = parts
        if not rest:
            return
        self._close_tail()
        self._parts.extend(rest[:-1])
        last = rest[-1]
        if isinstance(last, TextPart):
            self._start_tail(last.text)
        else:
            self._parts.append(last)

    def _start_tail(self, text: str) -> None:
        self._tail = [text]

    def _tail_is_empty(self) -> bool:
        # Only asked when empty texts are skipped: then an empty text is never appended, so an
        # empty tail is the one empty piece it started with.
        return self._tail == [""]

    def _extend_tail(self, text: str, separator: str) -> None:
        assert self._tail is not None
        if self._skip_empty:
            if not text:
                return
            if self._tail_is_empty():
                self._start_tail(text)
                return
        self._tail += (separator, text)

    def _close_tail(self) -> None:
        if self._tail is not None:
            assert self._parts is not None
            self._parts.append(TextPart("".join(self._tail)))
            self._tail = None
