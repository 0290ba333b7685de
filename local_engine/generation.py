"""One request's generation, run synchronously on a slot's worker thread.

``run_generation`` prepares the prompt, evaluates it and samples token by token, classifying
each token and handing every message to ``emit`` (which crosses to the event loop). It stops on
an end-of-generation token, when ``content + reasoning + undeterminable >= max_tokens`` (checked
after the token was emitted, so at least one token comes out; protocol reference 2.3), when the
context is full, or when ``stop`` is set (the client went away) — checked before every token.
The last message is always terminal: ``Done`` with the usage, or a ``GenerationError``.

The llama.cpp specifics sit behind ``GenerationBackend`` so this loop is tested with a fake.
"""

from __future__ import annotations

import codecs
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from local_engine.chat_template import ChatTemplate
from local_engine.errors import GenerationFailure
from local_engine.model_facts import ModelFacts
from local_engine.prompt_preparation import PreparedPrompt, prepare_prompt
from local_engine.token_classifier import TokenClassifier
from paddler_protocol.conversation_params import ConversationParams, GrammarConstraint, RawPromptParams
from paddler_protocol.paddler_message import Done, GenerationError, PaddlerMessage
from paddler_protocol.token_usage import TokenUsage

logger = logging.getLogger(__name__)

GenerationEnd = Literal["done", "stopped", "failed"]


class TokenSampler(Protocol):
    def sample(self) -> int: ...

    def close(self) -> None: ...


class GenerationBackend(Protocol):
    """One model context, used by one thread at a time."""

    @property
    def context_size(self) -> int: ...

    def tokenize(self, text: str, *, add_bos: bool) -> list[int]: ...

    def token_text(self, token: int) -> str:
        """The token's full text, special tokens rendered (compared with section markers)."""
        ...

    def token_bytes(self, token: int) -> bytes:
        """The bytes a client may see (empty for control tokens)."""
        ...

    def is_end_of_generation(self, token: int) -> bool: ...

    def new_sampler(self, grammar: GrammarConstraint | None) -> TokenSampler:
        """Raises ``GenerationFailure`` (GrammarSyntaxError / GrammarInitializationFailed)."""
        ...

    def evaluate(self, tokens: list[int], *, fresh: bool) -> None:
        """Feed tokens into the context; ``fresh`` clears it first (a new request)."""
        ...


@dataclass(frozen=True, slots=True)
class GenerationContext:
    """What every generation on this engine shares."""

    model: ModelFacts
    template: ChatTemplate
    new_call_id: Callable[[], str]


@dataclass(frozen=True, slots=True)
class GenerationOutcome:
    end: GenerationEnd
    usage: TokenUsage
    error_kind: str | None = None
    first_token_seconds: float | None = None


def run_generation(
    backend: GenerationBackend,
    params: ConversationParams | RawPromptParams,
    *,
    context: GenerationContext,
    emit: Callable[[PaddlerMessage], None],
    stop: threading.Event,
) -> GenerationOutcome:
    try:
        prepared = prepare_prompt(
            params, model=context.model, template=context.template, new_call_id=context.new_call_id
        )
        prompt = backend.tokenize(prepared.text, add_bos=prepared.add_bos)
        if len(prompt) >= backend.context_size:
            raise GenerationFailure(
                "SamplerError",
                f"The prompt has {len(prompt)} tokens but the context holds {backend.context_size}",
            )
        outcome = _generate(backend, prepared, prompt, context=context, emit=emit, stop=stop)
    except GenerationFailure as failure:
        emit(failure.as_message())
        return GenerationOutcome("failed", TokenUsage(), error_kind=failure.kind)
    except Exception as error:  # the stream must end with a terminal line
        logger.exception("local engine generation failed")
        emit(GenerationError("SamplerError", f"{type(error).__name__}: {error}"))
        return GenerationOutcome("failed", TokenUsage(), error_kind="SamplerError")
    # Paddler finishes a cancelled request with a Done that is no longer forwarded; the
    # engine does the same (nobody reads it once the client is gone).
    emit(Done(outcome.usage))
    return outcome


def _generate(
    backend: GenerationBackend,
    prepared: PreparedPrompt,
    prompt: list[int],
    *,
    context: GenerationContext,
    emit: Callable[[PaddlerMessage], None],
    stop: threading.Event,
) -> GenerationOutcome:
    sampler = backend.new_sampler(prepared.grammar)
    try:
        classifier = TokenClassifier(
            context.model.markers,
            starts_in_reasoning=prepared.starts_in_reasoning,
            tool_call_parsing=prepared.tool_call_parsing,
        )
        # A token may end inside a multi-byte character: its text comes out with the next one.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        started = time.monotonic()
        first_token_seconds: float | None = None
        end: GenerationEnd = "done"
        backend.evaluate(prompt, fresh=True)
        position = len(prompt)
        while True:
            if stop.is_set():
                end = "stopped"
                break
            token = sampler.sample()
            if first_token_seconds is None:
                first_token_seconds = time.monotonic() - started
            if backend.is_end_of_generation(token):
                break
            visible = decoder.decode(backend.token_bytes(token))
            for message in classifier.on_token(backend.token_text(token), visible):
                emit(message)
            position += 1
            if classifier.max_tokens_counted >= prepared.max_tokens:
                break
            if position >= backend.context_size:
                break
            backend.evaluate([token], fresh=False)
        for message in classifier.on_text(decoder.decode(b"", final=True)) + classifier.on_end():
            emit(message)
    finally:
        sampler.close()
    return GenerationOutcome(end, classifier.usage(prompt_tokens=len(prompt)), first_token_seconds=first_token_seconds)
