from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from local_engine.builtin_chat_templates import GEMMA_TEMPLATE
from local_engine.chat_template import ChatTemplate, SpecialTokens
from local_engine.errors import GenerationFailure
from local_engine.generation import GenerationContext, GenerationOutcome, run_generation
from local_engine.model_facts import ModelFacts
from local_engine.section_markers import SectionMarkers
from paddler_protocol.conversation_params import (
    ConversationMessage,
    ConversationParams,
    GbnfGrammar,
    GrammarConstraint,
    ImagePart,
    RawPromptParams,
)
from paddler_protocol.paddler_message import Done, GenerationError, PaddlerMessage, UndeterminableToken
from paddler_protocol.token_usage import TokenUsage

EOG = 0


class ScriptedSampler:
    def __init__(self, tokens: list[int], on_sample: Callable[[int], None]) -> None:
        self._tokens = iter(tokens)
        self._on_sample = on_sample
        self.closed = False

    def sample(self) -> int:
        token = next(self._tokens, EOG)
        self._on_sample(token)
        return token

    def close(self) -> None:
        self.closed = True


class FakeBackend:
    """Token ids index ``pieces``; id 0 ends generation; the prompt is one token per word."""

    def __init__(self, pieces: list[bytes], *, script: list[int], context_size: int = 64) -> None:
        self.pieces = pieces
        self.script = script
        self._context_size = context_size
        self.sampled: list[int] = []
        self.on_sample: Callable[[int], None] = lambda token: None
        self.sampler_error: Exception | None = None
        self.tokenized: list[str] = []

    @property
    def context_size(self) -> int:
        return self._context_size

    def tokenize(self, text: str, *, add_bos: bool) -> list[int]:
        self.tokenized.append(text)
        return [1] * (len(text.split()) + int(add_bos))

    def token_text(self, token: int) -> str:
        return self.pieces[token].decode("utf-8", errors="replace")

    def token_bytes(self, token: int) -> bytes:
        return self.pieces[token]

    def is_end_of_generation(self, token: int) -> bool:
        return token == EOG

    def new_sampler(self, grammar: GrammarConstraint | None) -> ScriptedSampler:
        if self.sampler_error is not None:
            raise self.sampler_error
        return ScriptedSampler(self.script, self._sampled)

    def evaluate(self, tokens: list[int], *, fresh: bool) -> None:
        pass

    def _sampled(self, token: int) -> None:
        self.sampled.append(token)
        self.on_sample(token)


CONTEXT = GenerationContext(
    model=ModelFacts(
        path=Path("model.gguf"),
        name="model",
        architecture="gemma3",
        chat_template=GEMMA_TEMPLATE,
        chat_template_from_model=False,
        special_tokens=SpecialTokens("<bos>", "<eos>"),
        markers=SectionMarkers(),
    ),
    template=ChatTemplate(GEMMA_TEMPLATE),
    new_call_id=lambda: "call_1",
)
WORDS = [b"<eos>", b"one", b" two", b" three", b" four"]


def generate(
    backend: FakeBackend, params: ConversationParams | RawPromptParams, stop: threading.Event | None = None
) -> tuple[list[PaddlerMessage], GenerationOutcome]:
    emitted: list[PaddlerMessage] = []
    outcome = run_generation(backend, params, context=CONTEXT, emit=emitted.append, stop=stop or threading.Event())
    return emitted, outcome


def chat(*messages: ConversationMessage) -> ConversationParams:
    return ConversationParams(
        conversation_history=messages or (ConversationMessage("user", "Hi"),),
        max_tokens=10,
        enable_thinking=False,
    )


def test_tokens_are_emitted_until_end_of_generation_and_done_carries_the_counts() -> None:
    backend = FakeBackend(WORDS, script=[1, 2, 3])
    emitted, outcome = generate(backend, RawPromptParams("a b c", max_tokens=10))
    assert emitted == [
        UndeterminableToken("one"),
        UndeterminableToken(" two"),
        UndeterminableToken(" three"),
        Done(TokenUsage(prompt_tokens=4, undeterminable_tokens=3)),
    ]
    assert outcome.end == "done"


def test_generation_stops_exactly_at_max_tokens() -> None:
    backend = FakeBackend(WORDS, script=[1, 2, 3, 4])
    emitted, _ = generate(backend, RawPromptParams("a", max_tokens=2))
    assert emitted[:-1] == [UndeterminableToken("one"), UndeterminableToken(" two")]
    assert backend.sampled == [1, 2]


@pytest.mark.parametrize("max_tokens", [0, -5])
def test_at_least_one_token_is_generated_whatever_max_tokens_says(max_tokens: int) -> None:
    backend = FakeBackend(WORDS, script=[1, 2])
    emitted, _ = generate(backend, RawPromptParams("a", max_tokens=max_tokens))
    assert emitted == [UndeterminableToken("one"), Done(TokenUsage(prompt_tokens=2, undeterminable_tokens=1))]


def test_a_set_stop_flag_ends_generation_before_the_next_token() -> None:
    stop = threading.Event()
    backend = FakeBackend(WORDS, script=[1, 2, 3, 4])
    backend.on_sample = lambda token: stop.set() if token == 2 else None
    emitted, outcome = generate(backend, RawPromptParams("a", max_tokens=10), stop)
    assert backend.sampled == [1, 2]
    assert outcome.end == "stopped"
    assert outcome.usage.undeterminable_tokens == 2


def test_a_character_split_across_tokens_comes_out_whole_with_the_second_token() -> None:
    backend = FakeBackend([b"<eos>", b"caf", b"\xc3", b"\xa9"], script=[1, 2, 3])
    emitted, outcome = generate(backend, RawPromptParams("a", max_tokens=10))
    assert emitted[:-1] == [UndeterminableToken("caf"), UndeterminableToken("é")]
    assert outcome.usage.undeterminable_tokens == 3


def test_the_context_size_bounds_generation() -> None:
    backend = FakeBackend(WORDS, script=[1, 2, 3, 4], context_size=4)
    emitted, _ = generate(backend, RawPromptParams("a", max_tokens=10))
    assert emitted[-1] == Done(TokenUsage(prompt_tokens=2, undeterminable_tokens=2))


def test_a_prompt_that_fills_the_context_is_a_sampler_error() -> None:
    backend = FakeBackend(WORDS, script=[1], context_size=3)
    emitted, outcome = generate(backend, RawPromptParams("a b c", max_tokens=10))
    assert [type(message) for message in emitted] == [GenerationError]
    assert (emitted[0].kind, outcome.end) == ("SamplerError", "failed")  # type: ignore[union-attr]


def test_conversation_prompts_are_rendered_with_the_chat_template() -> None:
    backend = FakeBackend(WORDS, script=[1])
    generate(backend, chat())
    assert backend.tokenized == ["<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"]


def test_grammar_with_thinking_is_refused_before_anything_is_generated() -> None:
    backend = FakeBackend(WORDS, script=[1])
    params = ConversationParams(
        conversation_history=(ConversationMessage("user", "Hi"),),
        max_tokens=5,
        enable_thinking=True,
        grammar=GbnfGrammar('root ::= "yes"'),
    )
    emitted, _ = generate(backend, params)
    assert emitted == [
        GenerationError("GrammarIncompatibleWithThinking", "Grammar constraints are incompatible with thinking mode")
    ]
    assert backend.sampled == []


def test_an_image_is_refused_as_multimodal_not_supported() -> None:
    params = chat(ConversationMessage("user", (ImagePart("data:image/png;base64,AA"),)))
    emitted, _ = generate(FakeBackend(WORDS, script=[1]), params)
    assert [message.kind for message in emitted] == ["MultimodalNotSupported"]  # type: ignore[union-attr]


def test_a_template_failure_is_the_only_line() -> None:
    params = chat(ConversationMessage("assistant", "first"))
    emitted, _ = generate(FakeBackend(WORDS, script=[1]), params)
    assert [message.kind for message in emitted] == ["ChatTemplateError"]  # type: ignore[union-attr]


def test_a_grammar_the_backend_refuses_is_the_only_line() -> None:
    backend = FakeBackend(WORDS, script=[1])
    backend.sampler_error = GenerationFailure("GrammarInitializationFailed", "bad grammar")
    emitted, _ = generate(backend, RawPromptParams("a", max_tokens=3, grammar=GbnfGrammar("root ::=")))
    assert emitted == [GenerationError("GrammarInitializationFailed", "bad grammar")]


def test_an_unexpected_backend_failure_still_ends_the_stream_with_a_sampler_error() -> None:
    backend = FakeBackend(WORDS, script=[1])
    backend.sampler_error = RuntimeError("llama_decode returned -1")
    emitted, _ = generate(backend, RawPromptParams("a", max_tokens=3))
    assert emitted == [GenerationError("SamplerError", "RuntimeError: llama_decode returned -1")]
