"""One response in flight: Paddler's stream driven through ``ResponsesStreamState``.

``open`` resolves ``previous_response_id``, builds the Paddler body and returns only once
Paddler's first message has arrived, so a refusal before any token (overflow, slot timeout,
template error, unknown model) is raised before a byte is sent and becomes a real HTTP status.
After that, ``sse_bytes`` relays events — a failure travels in-band as ``error`` then
``response.failed`` — or ``body`` returns the terminal snapshot (the fold of the same events).
Either way the upstream is closed in ``finally`` (which is what tells Paddler to stop), the
usage meter is finished with the outcome, and the response is stored when ``store`` is true —
after its terminal event was handed to the client, and never at the cost of that event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from channels.db import database_sync_to_async

from compat_api.relay_stream import RelayStream
from compat_api.request_lifecycle import RequestLifecycle
from compat_api.responses.event import ResponsesEvent
from compat_api.responses.input_item import InputItem, id_prefix, item_json, with_id
from compat_api.responses.input_item_schema import parse_input_item
from compat_api.responses.object_id import new_object_id
from compat_api.responses.paddler_params import build_paddler_params
from compat_api.responses.request import ResponsesRequest
from compat_api.responses.response_object import ResponseObjectBuilder
from compat_api.responses.response_store import previous_conversation
from compat_api.responses.response_writer import response_writer
from compat_api.responses.stream_state import ResponsesStreamState
from compat_api.upstream_stream import UpstreamStream
from paddler_protocol.conversation_params import ConversationParams
from paddler_protocol.errors import UpstreamProtocolError
from paddler_protocol.paddler_message import PaddlerMessage

logger = logging.getLogger(__name__)


store_response_later = response_writer.submit
# Longest a stream waits for its stored copy before closing anyway (the store is then logged).
STORE_WAIT_SECONDS = 10.0


def _now() -> int:
    return int(time.time())


class ResponseStream(RelayStream):
    _log_name = "response stream"
    _unfinished_message = "The upstream ended the stream before the response was finished."

    def __init__(
        self,
        *,
        request: ResponsesRequest,
        tenant_id: int,
        upstream: UpstreamStream,
        state: ResponsesStreamState,
        input_items: tuple[Mapping[str, Any], ...],
    ) -> None:
        self._request = request
        self._tenant_id = tenant_id
        self._upstream = upstream
        self._state = state
        # The whole conversation in stored form, ids included, for input_items and later turns.
        self._input_items = input_items
        self._stored = False

    @classmethod
    async def open(cls, request: ResponsesRequest, *, tenant_id: int, lifecycle: RequestLifecycle) -> ResponseStream:
        inherited: tuple[Mapping[str, Any], ...] = ()
        if request.previous_response_id:
            inherited = await database_sync_to_async(previous_conversation)(
                tenant_id=tenant_id, response_id=request.previous_response_id
            )
        params, input_items = await lifecycle.compute(_translate, request, inherited)
        builder = ResponseObjectBuilder(new_object_id("resp"), _now(), request)
        upstream = await lifecycle.open_upstream(model=request.model, params=params, streamed=request.stream)
        state = ResponsesStreamState(
            builder=builder,
            max_tokens=params.max_tokens,
            new_id=new_object_id,
            now=_now,
            parallel_tool_calls=request.parallel_tool_calls,
        )
        return cls(
            request=request,
            tenant_id=tenant_id,
            upstream=upstream,
            state=state,
            input_items=input_items,
        )

    async def body(self) -> Mapping[str, Any]:
        """The terminal response object; a failure is raised (the view maps it to a status)."""
        await self._collect(self._events())
        if self._state.failure is not None:
            raise self._state.failure
        final = self._state.final_response
        assert final is not None
        self._finish_with_state()
        await self._store()
        return final

    # SSE: ``event:`` + ``data:`` pairs up to the terminal event, no ``[DONE]``.
    def _sse_payloads(self, message: PaddlerMessage) -> Iterator[bytes]:
        for event in self._state.on_message(message):
            if event.is_terminal:
                self._finish_with_state()
            yield event.to_sse()

    def _answer_finished(self) -> bool:
        return self._state.final_response is not None

    def _sse_failure(self, error: Exception) -> Iterable[bytes]:
        events = self._state.on_error(error)
        self._finish_with_state()
        return [event.to_sse() for event in events]

    async def _after_close(self) -> None:
        await self._store()

    async def _events(self) -> AsyncIterator[ResponsesEvent]:
        async for message in self._upstream:
            for event in self._state.on_message(message):
                yield event
            if self._state.final_response is not None:
                return
        raise UpstreamProtocolError(self._unfinished_message)

    async def _store(self) -> None:
        final = self._state.final_response
        if final is None or not self._request.store or self._stored:
            return
        self._stored = True
        try:
            # Committed in batches by the response writer's thread; awaited (not a thread hop)
            # so that the response is stored before the stream closes.
            committed = store_response_later(
                tenant_id=self._tenant_id,
                response=final,
                input_items=self._input_items,
                response_json=self._state.final_response_json,
            )
            if committed is not None:
                await asyncio.wait_for(committed, STORE_WAIT_SECONDS)
        except Exception:
            # The client already has the response; losing the stored copy is logged, not raised.
            logger.exception("storing response %s failed", final["id"])

    def _finish_with_state(self) -> None:
        outcome = self._state.outcome
        assert outcome is not None
        self._finish(outcome, self._state.failure)

    def _end_details(self) -> str:
        return f"store={self._request.store}"


def _translate(
    request: ResponsesRequest, inherited: tuple[Mapping[str, Any], ...]
) -> tuple[ConversationParams, tuple[Mapping[str, Any], ...]]:
    """Paddler's params for the whole conversation, and the conversation in stored form (ids
    included, for input_items and later turns): work that grows with the request."""
    own = tuple(_with_stored_id(item) for item in request.input)
    items = (*(parse_input_item(document) for document in inherited), *own)
    return build_paddler_params(request, items), (*inherited, *(item_json(item) for item in own))


def _with_stored_id(item: InputItem) -> InputItem:
    # Client ids (Codex's msg_<uuid>) are kept as given; items without one get ours.
    return item if item.id else with_id(item, new_object_id(id_prefix(item)))
