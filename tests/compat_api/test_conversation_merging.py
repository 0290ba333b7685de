"""Merging consecutive turns: one pass gives what joining turn by turn gave, in linear time."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from compat_api.conversation_merging import CALL_SEPARATOR, MERGE_SEPARATOR, Turn, merge_consecutive_turns
from paddler_protocol.conversation_params import ContentPart, ConversationMessage, ImagePart, TextPart


def merged_turn_by_turn(turns: list[Turn], *, skip_empty_texts: bool) -> tuple[ConversationMessage, ...]:
    """The rule as first written: each turn joined to the merged one before it."""
    merged: list[Turn] = []
    for turn in turns:
        previous = merged[-1] if merged else None
        role = turn.message.role
        if previous is None or previous.message.role != role or role == "tool":
            merged.append(turn)
            continue
        separator = CALL_SEPARATOR if previous.is_call and turn.is_call else MERGE_SEPARATOR
        content = _joined(previous.message.content, turn.message.content, separator, skip_empty_texts)
        merged[-1] = Turn(ConversationMessage(role, content), turn.is_call)
    return tuple(turn.message for turn in merged)


def _joined(first: Any, second: Any, separator: str, skip: bool) -> Any:
    if isinstance(first, str) and isinstance(second, str):
        return _joined_text(first, second, separator, skip)
    left, right = _as_parts(first, skip), _as_parts(second, skip)
    if left and right and isinstance(left[-1], TextPart) and isinstance(right[0], TextPart):
        return (*left[:-1], TextPart(_joined_text(left[-1].text, right[0].text, separator, skip)), *right[1:])
    return (*left, *right)


def _joined_text(first: str, second: str, separator: str, skip: bool) -> str:
    return separator.join(text for text in (first, second) if text) if skip else first + separator + second


def _as_parts(content: Any, skip: bool) -> tuple[ContentPart, ...]:
    if isinstance(content, str):
        return () if skip and not content else (TextPart(content),)
    return tuple(content)


_TEXT = st.sampled_from(["", "a", "bc"])
_PART = st.builds(TextPart, _TEXT) | st.builds(ImagePart, st.just("data:image/png;base64,AA=="))
_CONTENT = _TEXT | st.lists(_PART, max_size=3).map(tuple)
_TURN = st.builds(
    lambda role, content, is_call: Turn(ConversationMessage(role, content), is_call),
    st.sampled_from(["user", "assistant", "tool"]),
    _CONTENT,
    st.booleans(),
)


@settings(max_examples=1500, deadline=None)
@given(turns=st.lists(_TURN, max_size=8), skip_empty_texts=st.booleans())
def test_one_pass_merges_as_joining_turn_by_turn_did(turns: list[Turn], skip_empty_texts: bool) -> None:
    assert merge_consecutive_turns(turns, skip_empty_texts=skip_empty_texts) == merged_turn_by_turn(
        turns, skip_empty_texts=skip_empty_texts
    )


def test_texts_join_with_a_blank_line_and_calls_with_a_line() -> None:
    turns = [
        Turn(ConversationMessage("user", "a")),
        Turn(ConversationMessage("user", "b")),
        Turn(ConversationMessage("assistant", "call 1"), is_call=True),
        Turn(ConversationMessage("assistant", "call 2"), is_call=True),
        Turn(ConversationMessage("tool", "r1")),
        Turn(ConversationMessage("tool", "r2")),
    ]
    assert merge_consecutive_turns(turns, skip_empty_texts=True) == (
        ConversationMessage("user", "a\n\nb"),
        ConversationMessage("assistant", "call 1\ncall 2"),
        ConversationMessage("tool", "r1"),
        ConversationMessage("tool", "r2"),
    )
