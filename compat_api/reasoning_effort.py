"""What ``reasoning_effort`` (chat) and ``reasoning.effort`` (Responses) mean for Paddler."""

from __future__ import annotations

# Efforts that turn thinking off (Paddler's ``enable_thinking: false``); every other effort
# leaves it on: llama.cpp has no notion of how hard to think.
THINKING_OFF_EFFORTS = frozenset({"none", "minimal"})
