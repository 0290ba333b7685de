"""Slots, buffering and the hand-off between the event loop and the generation threads.

Each slot is a model context plus one worker thread. ``InferenceEngine.stream`` admits a request
to a slot (``SlotPool``: buffer, 503 overflow, 504 timeout), runs ``run_generation`` on that
slot's thread, and yields the messages the thread emits; they cross to the loop with
``loop.call_soon_threadsafe`` into an ``asyncio.Queue``, so the loop never waits on llama.cpp.

Closing the stream early (the client disconnected) sets the generation's stop flag; the thread
stops before its next token. Like Paddler, the slot stays taken until the thread has really
finished, and only then goes to the next buffered request.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from local_engine.errors import BufferedRequestsOverflow, SlotWaitTimedOut
from local_engine.generation import (
    GenerationBackend,
    GenerationContext,
    GenerationEnd,
    GenerationOutcome,
    run_generation,
)
from local_engine.model_facts import ModelFacts
from local_engine.slot_pool import SlotPool
from paddler_protocol.conversation_params import ConversationParams, RawPromptParams
from paddler_protocol.paddler_message import ErrorEnvelope, PaddlerMessage, is_terminal
from paddler_protocol.token_usage import TokenUsage

logger = logging.getLogger(__name__)

RECENT_GENERATIONS = 100
CHANNEL_CLOSED = "Response channel closed before terminator"


@dataclass(frozen=True, slots=True)
class FinishedGeneration:
    """One request as the engine saw it end (kept for logs, tests and the benchmark)."""

    request_id: str
    end: GenerationEnd
    usage: TokenUsage
    error_kind: str | None
    first_token_seconds: float | None
    seconds: float


class EngineSlot:
    def __init__(self, index: int, backend: GenerationBackend) -> None:
        self.index = index
        self.backend = backend
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"local-engine-slot-{index}")


class InferenceEngine:
    def __init__(
        self,
        *,
        backends: Sequence[GenerationBackend],
        context: GenerationContext,
        max_buffered: int,
        buffered_timeout: float,
    ) -> None:
        self._slots = [EngineSlot(index, backend) for index, backend in enumerate(backends)]
        self._pool: SlotPool[EngineSlot] = SlotPool(self._slots, max_buffered=max_buffered, timeout=buffered_timeout)
        self._context = context
        self._stops: set[threading.Event] = set()
        self.recent: deque[FinishedGeneration] = deque(maxlen=RECENT_GENERATIONS)

    @property
    def model(self) -> ModelFacts:
        return self._context.model

    @property
    def slot_count(self) -> int:
        return self._pool.size

    @property
    def idle_slots(self) -> int:
        return self._pool.idle_count

    async def stream(
        self, params: ConversationParams | RawPromptParams, *, request_id: str
    ) -> AsyncGenerator[PaddlerMessage, None]:
        try:
            slot = await self._pool.acquire()
        except (BufferedRequestsOverflow, SlotWaitTimedOut) as refusal:
            logger.info("local engine request %s refused: %s", request_id, refusal.message)
            yield refusal.as_message()
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[PaddlerMessage | None] = asyncio.Queue()
        stop = threading.Event()
        self._stops.add(stop)

        def emit(message: PaddlerMessage) -> None:  # called on the slot's thread
            loop.call_soon_threadsafe(queue.put_nowait, message)

        started = time.monotonic()
        worker = slot.executor.submit(run_generation, slot.backend, params, context=self._context, emit=emit, stop=stop)
        worker.add_done_callback(
            lambda done: loop.call_soon_threadsafe(
                functools.partial(
                    self._worker_done,
                    done,
                    slot=slot,
                    stop=stop,
                    queue=queue,
                    request_id=request_id,
                    started=started,
                )
            )
        )
        try:
            while True:
                message = await queue.get()
                if message is None:  # the worker ended without a terminal message
                    yield ErrorEnvelope(502, CHANNEL_CLOSED)
                    return
                yield message
                if is_terminal(message):
                    return
        finally:
            stop.set()

    async def aclose(self) -> None:
        """Stop every running generation and wait for the worker threads to end."""
        for stop in list(self._stops):
            stop.set()
        for slot in self._slots:
            await asyncio.to_thread(slot.executor.shutdown, wait=True, cancel_futures=True)

    def _worker_done(
        self,
        done: Future[GenerationOutcome],
        *,
        slot: EngineSlot,
        stop: threading.Event,
        queue: asyncio.Queue[PaddlerMessage | None],
        request_id: str,
        started: float,
    ) -> None:
        self._stops.discard(stop)
        self._pool.release(slot)
        queue.put_nowait(None)
        if done.cancelled() or done.exception() is not None:
            logger.error("local engine request %s: worker ended abnormally", request_id)
            return
        outcome = done.result()
        finished = FinishedGeneration(
            request_id=request_id,
            end=outcome.end,
            usage=outcome.usage,
            error_kind=outcome.error_kind,
            first_token_seconds=outcome.first_token_seconds,
            seconds=time.monotonic() - started,
        )
        self.recent.append(finished)
        logger.info(
            "local engine request %s ended: %s%s slot=%d first_token=%s seconds=%.3f usage=%s",
            request_id,
            finished.end,
            f" ({finished.error_kind})" if finished.error_kind else "",
            slot.index,
            "-" if finished.first_token_seconds is None else f"{finished.first_token_seconds:.3f}s",
            finished.seconds,
            json.dumps(finished.usage.to_json(), separators=(",", ":")),
        )
