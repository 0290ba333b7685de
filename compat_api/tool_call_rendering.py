"""Tool calls and tool results written into turn text, the same way for both endpoints.

Paddler's messages carry exactly ``role`` and ``content`` (protocol reference 1.2, 5.2), so a
replayed call and its result must live in the text, never be dropped:

* a call becomes ``<tool_call>{"name": ..., "arguments": ..., "id": ...}</tool_call>`` — the
  Hermes/Qwen shape, which many templates produce natively for tool calls, with the id added
  for pairing;
* a result becomes ``<tool_result tool_call_id="..." name="...">`` ... ``</tool_result>`` so the
  model can pair each result with its call.

One renderer means the model sees the same conversation whichever endpoint the client uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AssistantToolCall:
    """A tool call replayed in an earlier assistant turn; ``arguments`` is the raw JSON string."""

    id: str
    name: str
    arguments: str


def render_tool_call(call: AssistantToolCall) -> str:
    try:
        arguments: object = json.loads(call.arguments) if call.arguments else {}
    except ValueError:
        # Replayed malformed JSON stays visible as the raw string the model produced.
        arguments = call.arguments
    body = {"name": call.name, "arguments": arguments, "id": call.id}
    return f"<tool_call>{json.dumps(body, ensure_ascii=False)}</tool_call>"


def render_tool_result(*, call_id: str, name: str | None, text: str) -> str:
    """``name`` is the called tool's, looked up from the call; ``None`` when the call is not in
    the conversation, and then only the id pairs them."""
    # JSON string quoting keeps an id or name with quotes in it from breaking the tag.
    attributes = f"tool_call_id={json.dumps(call_id)}" + (f" name={json.dumps(name)}" if name else "")
    return f"<tool_result {attributes}>\n{text}\n</tool_result>"
