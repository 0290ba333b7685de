from __future__ import annotations

from local_engine.section_markers import (
    MarkerPair,
    SectionMarkers,
    detect_section_markers,
    prompt_opens_thinking,
)

THINKING = SectionMarkers(thinking=MarkerPair("<think>", "</think>"))


def test_markers_are_recognised_only_when_both_are_single_tokens() -> None:
    vocabulary = {"<think>", "</think>", "<tool_call>"}
    markers = detect_section_markers(lambda text: text in vocabulary)
    assert markers == SectionMarkers(thinking=MarkerPair("<think>", "</think>"), tool_call=None)


def test_a_vocabulary_without_marker_tokens_has_no_markers() -> None:
    assert not detect_section_markers(lambda text: False).recognised


def test_a_generation_prompt_ending_in_an_open_think_block_opens_thinking() -> None:
    assert prompt_opens_thinking("<|im_start|>assistant\n<think>\n", THINKING)


def test_a_closed_think_block_in_the_prompt_does_not_open_thinking() -> None:
    assert not prompt_opens_thinking("<|im_start|>assistant\n<think>\n\n</think>\n\n", THINKING)
