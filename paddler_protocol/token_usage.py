"""Paddler's eight usage counters (protocol reference 2.1) and what derives from them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from paddler_protocol.errors import UpstreamProtocolError


@dataclass(frozen=True, slots=True)
class TokenUsage:
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    input_image_tokens: int = 0
    input_audio_tokens: int = 0
    content_tokens: int = 0
    reasoning_tokens: int = 0
    tool_call_tokens: int = 0
    undeterminable_tokens: int = 0

    @property
    def completion_tokens(self) -> int:
        return self.content_tokens + self.reasoning_tokens + self.tool_call_tokens + self.undeterminable_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def max_tokens_counted(self) -> int:
        """The tokens Paddler's agent compares with ``max_tokens`` (tool-call tokens excluded)."""
        return self.content_tokens + self.reasoning_tokens + self.undeterminable_tokens

    @classmethod
    def from_json(cls, value: Any) -> TokenUsage:
        if not isinstance(value, dict):
            raise UpstreamProtocolError("Done.usage is not an object")
        counters: dict[str, int] = {}
        for field in fields(cls):
            raw = value.get(field.name)
            if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
                raise UpstreamProtocolError(f"Done.usage.{field.name} is not a counter")
            counters[field.name] = raw
        return cls(**counters)

    def to_json(self) -> dict[str, int]:
        return {field.name: getattr(self, field.name) for field in fields(self)}
