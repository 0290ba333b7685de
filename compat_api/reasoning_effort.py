"""The reasoning efforts both endpoints accept (chat ``reasoning_effort``, Responses
``reasoning.effort``), and what they mean for Paddler."""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

# OpenAI's efforts, in its order; both schemas accept exactly these.
ReasoningEffort: TypeAlias = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
REASONING_EFFORTS: tuple[ReasoningEffort, ...] = get_args(ReasoningEffort)

# Efforts that turn thinking off (Paddler's ``enable_thinking: false``); every other effort
# leaves it on: llama.cpp has no notion of how hard to think.
THINKING_OFF_EFFORTS = frozenset({"none", "minimal"})
