"""The paths of Paddler's inference service (protocol reference 1.1)."""

from __future__ import annotations

CONVERSATION_HISTORY_PATH = "/api/v1/continue_from_conversation_history"
RAW_PROMPT_PATH = "/api/v1/continue_from_raw_prompt"
HEALTH_PATH = "/health"
