"""Ready-made fake Paddler replies for the scenarios the test suite needs.

Every ``Done`` carries usage consistent with the lines sent — one counter per token line of its
kind — unless a test passes its own numbers, so usage assertions can trust the script.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from paddler_protocol.paddler_message import (
    ContentToken,
    Done,
    ErrorEnvelope,
    GenerationError,
    GenerationErrorKind,
    PaddlerMessage,
    ParsedToolCall,
    ReasoningToken,
    ToolCallParsed,
    ToolCallToken,
    UndeterminableToken,
)
from paddler_protocol.token_usage import TokenUsage
from tests.fake_paddler_reply import DropConnection, Reply, Sleep, Step

DEFAULT_PROMPT_TOKENS = 12
DEFAULT_TOKENS = ("Hello", " from", " Paddler")

OVERFLOW_DESCRIPTION = "Buffered requests overflow"
SLOT_WAIT_TIMEOUT_DESCRIPTION = "Waiting for available slot timed out"
AGENT_LOST_DESCRIPTION = "Agent controller connection closed"

# Texts Paddler's agent writes for each terminal error kind (reference 1.2, 1.5, 8.28).
GENERATION_ERROR_MESSAGES: dict[str, str] = {
    "ChatTemplateError": "Failed to render chat template: undefined value",
    "DetokenizationFailed": "Failed to detokenize token",
    "GrammarIncompatibleWithThinking": "Grammar constraints are incompatible with thinking mode",
    "GrammarInitializationFailed": "Failed to initialize grammar sampler",
    "GrammarRejectedModelOutput": "Grammar rejected the model output",
    "GrammarSyntaxError": "Failed to convert JSON schema to grammar",
    "ImageDecodingFailed": "Remote image URLs are not supported. Use base64 data URIs instead.",
    "MultimodalNotSupported": "This model does not support multimodal input",
    "SamplerError": "Request evicted due to KV cache pressure",
    "TokenGenerationDisabled": "Token generation is disabled while the cluster is configured for embeddings",
    "ToolSchemaInvalid": 'Tool "get_weather" has an invalid parameters schema',
    "Timeout": "Inference timed out",
    "TooManyBufferedRequests": "Buffered requests overflow",
}


def usage_for(messages: Iterable[Step], *, prompt_tokens: int = DEFAULT_PROMPT_TOKENS) -> TokenUsage:
    """Usage counting one token per token line of each kind, as Paddler does for marker-free output."""
    counts = {ContentToken: 0, ReasoningToken: 0, ToolCallToken: 0, UndeterminableToken: 0}
    for message in messages:
        kind = type(message)
        if kind in counts:
            counts[kind] += 1
    return TokenUsage(
        prompt_tokens=prompt_tokens,
        content_tokens=counts[ContentToken],
        reasoning_tokens=counts[ReasoningToken],
        tool_call_tokens=counts[ToolCallToken],
        undeterminable_tokens=counts[UndeterminableToken],
    )


def finished(
    steps: Sequence[Step],
    *,
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS,
    usage: TokenUsage | None = None,
) -> Reply:
    """``steps`` followed by a ``Done`` whose usage matches them (or ``usage``, if given)."""
    done = Done(usage if usage is not None else usage_for(steps, prompt_tokens=prompt_tokens))
    return Reply([*steps, done])


def plain_content(*tokens: str, prompt_tokens: int = DEFAULT_PROMPT_TOKENS, usage: TokenUsage | None = None) -> Reply:
    """Content tokens then ``Done`` (``content_tokens`` = number of tokens)."""
    return finished(
        [ContentToken(text) for text in tokens or DEFAULT_TOKENS],
        prompt_tokens=prompt_tokens,
        usage=usage,
    )


def reasoning_then_content(
    reasoning: Sequence[str], content: Sequence[str], *, prompt_tokens: int = DEFAULT_PROMPT_TOKENS
) -> Reply:
    steps: list[Step] = [ReasoningToken(text) for text in reasoning]
    steps += [ContentToken(text) for text in content]
    return finished(steps, prompt_tokens=prompt_tokens)


def tool_call(name: str, arguments: dict[str, Any] | str, call_id: str = "call_1") -> ParsedToolCall:
    """A parsed call: a dict becomes ``ValidJson`` arguments, a string ``InvalidJson`` raw text."""
    if isinstance(arguments, str):
        return ParsedToolCall(id=call_id, name=name, arguments=arguments, arguments_valid=False)
    text = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False)
    return ParsedToolCall(id=call_id, name=name, arguments=text, arguments_valid=True)


def tool_call_batches(
    *batches: Sequence[ParsedToolCall],
    content_before: Sequence[str] = (),
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS,
) -> Reply:
    """Optional content, then per batch: the raw ``ToolCallToken`` lines, then ``ToolCallParsed``."""
    steps: list[Step] = [ContentToken(text) for text in content_before]
    for batch in batches:
        steps += _raw_tool_call_tokens(batch)
        steps.append(ToolCallParsed(tuple(batch)))
    return finished(steps, prompt_tokens=prompt_tokens)


def one_tool_call(
    name: str = "get_weather",
    arguments: dict[str, Any] | str | None = None,
    *,
    call_id: str = "call_1",
    content_before: Sequence[str] = (),
) -> Reply:
    call = tool_call(name, {"city": "Paris"} if arguments is None else arguments, call_id)
    return tool_call_batches([call], content_before=content_before)


def several_tool_calls_in_one_batch(*calls: ParsedToolCall) -> Reply:
    return tool_call_batches(
        calls
        or (
            tool_call("get_weather", {"city": "Paris"}, "call_1"),
            tool_call("get_weather", {"city": "Berlin"}, "call_2"),
        )
    )


def two_tool_call_batches(first: ParsedToolCall | None = None, second: ParsedToolCall | None = None) -> Reply:
    return tool_call_batches(
        [first or tool_call("get_weather", {"city": "Paris"}, "call_1")],
        [second or tool_call("get_time", {"zone": "CET"}, "call_2")],
    )


def _raw_tool_call_tokens(batch: Sequence[ParsedToolCall]) -> list[Step]:
    """The model's raw tool-call text, cut into a few token lines (what the agent streams first)."""
    raw = json.dumps([{"name": call.name, "arguments": call.arguments} for call in batch], ensure_ascii=False)
    size = max(1, len(raw) // 3 + 1)
    return [ToolCallToken(raw[start : start + size]) for start in range(0, len(raw), size)]


def error_envelope(code: int, description: str, *, after_tokens: Sequence[str] = ()) -> Reply:
    """Optional content tokens, then an ``Error`` envelope (terminal, no ``Done``)."""
    steps: list[Step] = [ContentToken(text) for text in after_tokens]
    steps.append(ErrorEnvelope(code, description))
    return Reply(steps)


def buffered_requests_overflow() -> Reply:
    return error_envelope(503, OVERFLOW_DESCRIPTION)


def waiting_for_slot_timed_out() -> Reply:
    return error_envelope(504, SLOT_WAIT_TIMEOUT_DESCRIPTION)


def inference_item_timeout(after_tokens: Sequence[str] = ("Hello", " there"), *, timeout_ms: int = 30000) -> Reply:
    return error_envelope(504, item_timeout_description(timeout_ms), after_tokens=after_tokens)


def item_timeout_description(timeout_ms: int = 30000) -> str:
    return (
        f"Inference timed out after {timeout_ms}ms waiting for next token. "
        "Increase --inference-item-timeout if the prompt requires longer processing."
    )


def agent_connection_closed(after_tokens: Sequence[str] = ()) -> Reply:
    return error_envelope(502, AGENT_LOST_DESCRIPTION, after_tokens=after_tokens)


def generation_error(
    kind: GenerationErrorKind = "ChatTemplateError",
    message: str | None = None,
    *,
    after_tokens: Sequence[str] = (),
) -> Reply:
    """Optional content tokens, then a terminal error variant of ``kind`` (no ``Done``)."""
    steps: list[Step] = [ContentToken(text) for text in after_tokens]
    error: PaddlerMessage
    if kind == "ImageExceedsBatchSize":
        error = GenerationError(
            kind,
            message or "image required 368 tokens but agent n_batch is 100; rerun with a larger n_batch",
            image_tokens=368,
            n_batch=100,
        )
    else:
        error = GenerationError(kind, message if message is not None else GENERATION_ERROR_MESSAGES[kind])
    steps.append(error)
    return Reply(steps)


def slow_stream(
    token_count: int,
    delay_seconds: float,
    *,
    token: str = "tok",
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS,
) -> Reply:
    """``token_count`` content tokens, each after ``delay_seconds``, then ``Done``."""
    steps: list[Step] = []
    for index in range(token_count):
        steps += [Sleep(delay_seconds), ContentToken(f"{token}{index}")]
    return Reply([*steps, Done(usage_for(steps, prompt_tokens=prompt_tokens))])


def dropped_after(token_count: int, *, token: str = "tok") -> Reply:
    """``token_count`` content tokens, then the TCP connection closes without a terminal line."""
    steps: list[Step] = [ContentToken(f"{token}{index}") for index in range(token_count)]
    return Reply([*steps, DropConnection()])


def ended_without_terminal(*tokens: str) -> Reply:
    """A clean end of body after ``tokens`` but no terminal line (a broken upstream)."""
    return Reply([ContentToken(text) for text in tokens or DEFAULT_TOKENS])
