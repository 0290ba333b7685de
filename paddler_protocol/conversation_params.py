"""The request bodies Paddler's inference routes accept (protocol reference 1.2, 1.3).

Paddler denies unknown fields at every level, so these types hold exactly what may be sent and
``to_json`` writes nothing else. The API layer builds them; ``encoded`` serialises them once,
so the size check before admission and the client send the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

from foundation.compact_json import strict_compact_json


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image as a ``data:`` URI (Paddler refuses remote URLs)."""

    url: str


ContentPart: TypeAlias = TextPart | ImagePart


@dataclass(frozen=True, slots=True)
class ConversationMessage:
    role: str
    content: str | tuple[ContentPart, ...]

    def to_json(self) -> dict[str, Any]:
        if isinstance(self.content, str):
            return {"role": self.role, "content": self.content}
        return {"role": self.role, "content": [_part_json(part) for part in self.content]}


def _part_json(part: ContentPart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    return {"type": "image_url", "image_url": {"url": part.url}}


@dataclass(frozen=True, slots=True)
class FunctionTool:
    """A function tool. ``parameters`` must already be reduced to the four keys Paddler accepts
    (``type``, ``properties``, ``required``, ``additionalProperties``) or be ``None``."""

    name: str
    description: str = ""
    parameters: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        function: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.parameters is not None:
            function["parameters"] = self.parameters
        return {"type": "function", "function": function}


@dataclass(frozen=True, slots=True)
class JsonSchemaGrammar:
    """``schema`` is the JSON Schema serialised to a string, as Paddler wants it."""

    schema: str

    def to_json(self) -> dict[str, Any]:
        return {"type": "json_schema", "schema": self.schema}


@dataclass(frozen=True, slots=True)
class GbnfGrammar:
    grammar: str
    root: str = "root"

    def to_json(self) -> dict[str, Any]:
        return {"type": "gbnf", "grammar": self.grammar, "root": self.root}


GrammarConstraint: TypeAlias = JsonSchemaGrammar | GbnfGrammar


@dataclass(frozen=True, slots=True)
class ConversationParams:
    """Body of ``POST /api/v1/continue_from_conversation_history``."""

    conversation_history: tuple[ConversationMessage, ...]
    max_tokens: int
    enable_thinking: bool = True
    add_generation_prompt: bool = True
    grammar: GrammarConstraint | None = None
    tools: tuple[FunctionTool, ...] = field(default_factory=tuple)
    parse_tool_calls: bool = False
    _encoded: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def encoded(self) -> bytes:
        return _encoded(self)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "add_generation_prompt": self.add_generation_prompt,
            "conversation_history": [message.to_json() for message in self.conversation_history],
            "enable_thinking": self.enable_thinking,
            "grammar": self.grammar.to_json() if self.grammar is not None else None,
            "max_tokens": self.max_tokens,
            "parse_tool_calls": self.parse_tool_calls,
            "tools": [tool.to_json() for tool in self.tools],
        }
        return body


@dataclass(frozen=True, slots=True)
class RawPromptParams:
    """Body of ``POST /api/v1/continue_from_raw_prompt``."""

    raw_prompt: str
    max_tokens: int
    grammar: GrammarConstraint | None = None
    _encoded: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def encoded(self) -> bytes:
        return _encoded(self)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"raw_prompt": self.raw_prompt, "max_tokens": self.max_tokens}
        if self.grammar is not None:
            body["grammar"] = self.grammar.to_json()
        return body


def _encoded(params: ConversationParams | RawPromptParams) -> bytes:
    """The body as sent: compact UTF-8 JSON, NaN and Infinity refused as serde_json refuses them
    (``ValueError``). Kept on the frozen params after the first call: a conversation can be
    megabytes, and it is measured against the upstream's limit before it is sent."""
    if params._encoded is None:
        object.__setattr__(params, "_encoded", strict_compact_json(params.to_json()).encode())
    assert params._encoded is not None
    return params._encoded
