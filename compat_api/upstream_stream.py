"""The one way an endpoint talks to Paddler: metered, primed, always closed.

``open`` resolves the model, sends the request and waits for the FIRST upstream message before
returning, so that a refusal by Paddler (overflow, slot timeout, template error) is raised as
its exception and still becomes a real HTTP status: the endpoint has committed no byte yet.
Iterating yields every message from the first on — later failures included, which the
endpoint's stream state turns into its in-band error (each message is converted once); ``aclose``
closes the upstream response, which is how Paddler learns to stop generating. Admission is the
request's owner's step before this one (compat_api/request_lifecycle.py).
"""

from __future__ import annotations

from inference.paddler_client import PaddlerStream
from inference.upstream_registry import Upstream, upstream_registry
from paddler_protocol.conversation_params import ConversationParams
from paddler_protocol.errors import UpstreamProtocolError
from paddler_protocol.message_errors import error_for_message
from paddler_protocol.paddler_message import PaddlerLine, PaddlerMessage
from usage.usage_meter import UsageMeter

# Characters per token, for the admission estimate of the prompt before Paddler counts it.
CHARS_PER_TOKEN_ESTIMATE = 4


class UpstreamStream:
    def __init__(self, *, upstream: Upstream, lines: PaddlerStream, first: PaddlerLine, meter: UsageMeter) -> None:
        self.upstream = upstream
        self.meter = meter
        self._lines = lines
        self._pending: PaddlerLine | None = first
        self._closed = False

    @classmethod
    async def open(cls, *, model: str, params: ConversationParams, meter: UsageMeter) -> UpstreamStream:
        upstream = await upstream_registry.resolve(model)
        meter.set_target(model=model, upstream=upstream.name, streamed=meter.streamed)
        lines = upstream_registry.client_for(upstream).continue_from_conversation_history(params)
        await lines.__aenter__()
        try:
            first = await _next_line(lines)
            meter.observe(first)
            error = error_for_message(first.message)
            if error is not None:
                raise error
        except BaseException:
            await lines.aclose()
            raise
        return cls(upstream=upstream, lines=lines, first=first, meter=meter)

    @property
    def paddler_request_id(self) -> str:
        return self.meter.paddler_request_id

    @property
    def generated_by(self) -> str:
        return self.meter.generated_by

    @property
    def message_ready(self) -> bool:
        """The next message is already here: ``__anext__`` returns it without waiting."""
        return not self._closed and (self._pending is not None or self._lines.line_ready)

    def __aiter__(self) -> UpstreamStream:
        return self

    async def __anext__(self) -> PaddlerMessage:
        if self._pending is not None:
            line, self._pending = self._pending, None
            return line.message
        if self._closed:
            raise StopAsyncIteration
        try:
            line = await self._lines.__anext__()
        except StopAsyncIteration:
            self._closed = True
            raise
        self.meter.observe(line)
        return line.message

    async def aclose(self) -> None:
        self._closed = True
        self._pending = None
        await self._lines.aclose()


async def _next_line(lines: PaddlerStream) -> PaddlerLine:
    try:
        return await lines.__anext__()
    except StopAsyncIteration:
        raise UpstreamProtocolError("The upstream closed the stream before any message.") from None


def estimate_tokens(params: ConversationParams) -> int:
    """Prompt size estimate + the request's max tokens: what admission reserves up front."""
    return estimate_prompt_tokens(params) + max(params.max_tokens, 0)


def estimate_prompt_tokens(params: ConversationParams) -> int:
    """The prompt's size before Paddler counts it (billed if Paddler never says)."""
    chars = 0
    for message in params.conversation_history:
        if isinstance(message.content, str):
            chars += len(message.content)
        else:
            chars += sum(len(getattr(part, "text", "")) for part in message.content)
    return chars // CHARS_PER_TOKEN_ESTIMATE + 1
