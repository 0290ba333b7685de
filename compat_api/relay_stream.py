"""What the chat and Responses streams do alike: relay, close the upstream, finish the meter once.

An endpoint's stream (``ChatCompletionStream``, ``ResponseStream``) supplies the SSE payloads
of one upstream message (``_sse_payloads``), when its answer is complete (``_answer_finished``),
what a failure becomes in-band (``_sse_failure``) and how the body ends (``_sse_end``); this
base owns the skeleton around them. It iterates the upstream itself: one generator per relayed
token, not one per layer. Whatever ends the relay — the answer's
end, an upstream failure, the client going away (``CancelledError``/``GeneratorExit``) — the
upstream is closed in ``finally`` (which is what tells Paddler to stop generating) and the
usage meter is finished exactly once with the outcome seen here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

from compat_api.upstream_stream import UpstreamStream
from foundation.errors import OarlockError
from paddler_protocol.errors import UpstreamProtocolError
from paddler_protocol.paddler_message import PaddlerMessage
from usage.usage_meter import Outcome

logger = logging.getLogger(__name__)

T = TypeVar("T")


class RelayStream:
    _upstream: UpstreamStream
    # "chat completion stream", "response stream": names the stream in its log lines.
    _log_name = "stream"
    _unfinished_message = "The upstream ended the stream before the answer was finished."

    async def sse_bytes(self) -> AsyncIterator[bytes]:
        """The SSE body; a failure after the first byte travels in-band.

        The events of the upstream messages already at hand go out as one body part: they
        exist at the same moment, and one ASGI send per part is most of a relayed event's cost
        (a Responses stream's first and last message are four or five events each; tokens that
        arrived in one read, as they do while the loop was busy, are one part). Nothing waits
        for more: a part goes out as soon as no further message is buffered."""
        try:
            parts: list[bytes] = []
            try:
                async for message in self._upstream:
                    parts.append(b"".join(self._sse_payloads(message)))
                    if self._answer_finished():
                        break
                    if not self._upstream.message_ready:
                        if payload := b"".join(parts):
                            yield payload
                        parts.clear()
                else:
                    raise UpstreamProtocolError(self._unfinished_message)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - after the first byte a failure goes in-band
                parts.append(b"".join(self._sse_failure(error)))
            else:
                parts.append(b"".join(self._sse_end()))
            if payload := b"".join(parts):
                yield payload
        except (asyncio.CancelledError, GeneratorExit):
            self._finish("client_disconnected", "ClientDisconnected")
            raise
        finally:
            await self._upstream.aclose()
            await self._after_close()

    async def _collect(self, items: AsyncIterator[T]) -> list[T]:
        """Every item of a non-streaming answer; the upstream is closed whatever happens."""
        try:
            return [item async for item in items]
        except asyncio.CancelledError:
            self._finish("client_disconnected", "ClientDisconnected")
            raise
        finally:
            await self._upstream.aclose()

    def _sse_payloads(self, message: PaddlerMessage) -> Iterable[bytes]:
        raise NotImplementedError

    def _answer_finished(self) -> bool:
        raise NotImplementedError

    def _sse_failure(self, error: Exception) -> Iterable[bytes]:
        raise NotImplementedError

    def _sse_end(self) -> Iterable[bytes]:
        return ()

    async def _after_close(self) -> None:
        """After the upstream is closed (Responses stores the response here)."""

    def _finish(self, outcome: Outcome, error: BaseException | str | None = None) -> None:
        meter = self._upstream.meter
        if meter.finished:
            return
        status = 499 if outcome == "client_disconnected" else 200
        meter.finish(outcome=outcome, http_status=status, error=error)
        if isinstance(error, BaseException) and not isinstance(error, OarlockError):
            logger.error("%s failed", self._log_name, exc_info=error)
        # The request's one INFO summary line is the usage meter's; this adds the details.
        logger.debug(
            "%s end outcome=%s %s paddler_request_id=%s generated_by=%s",
            self._log_name,
            outcome,
            self._end_details(),
            self._upstream.paddler_request_id or "-",
            self._upstream.generated_by or "-",
        )

    def _end_details(self) -> str:
        return ""
