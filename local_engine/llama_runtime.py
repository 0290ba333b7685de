"""llama-cpp-python behind ``GenerationBackend``: one model context per slot.

Each slot loads its own ``llama_cpp.Llama`` (model + context). The weights are memory-mapped, so
the operating system shares their pages between slots; only the KV cache is per slot. Sampling
uses llama.cpp's sampler chain directly because we need to see a grammar that llama.cpp refuses
(``llama_sampler_init_grammar`` returns NULL) instead of crashing on it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import random
from pathlib import Path

import llama_cpp
from llama_cpp.llama_grammar import json_schema_to_gbnf

from local_engine.builtin_chat_templates import builtin_chat_template
from local_engine.chat_template import SpecialTokens
from local_engine.errors import GenerationFailure
from local_engine.model_facts import ModelFacts, served_model_name
from local_engine.sampling_settings import SamplingSettings
from local_engine.section_markers import detect_section_markers
from paddler_protocol.conversation_params import GbnfGrammar, GrammarConstraint, JsonSchemaGrammar

logger = logging.getLogger(__name__)

_PIECE_BUFFER_BYTES = 256


class ChainSampler:
    """A llama.cpp sampler chain; sampling also accepts the token (grammar state advances)."""

    def __init__(self, chain: llama_cpp.llama_sampler_p, context: llama_cpp.llama_context_p) -> None:
        self._chain: llama_cpp.llama_sampler_p | None = chain
        self._context = context

    def sample(self) -> int:
        return int(llama_cpp.llama_sampler_sample(self._chain, self._context, -1))

    def close(self) -> None:
        if self._chain is not None:
            llama_cpp.llama_sampler_free(self._chain)
            self._chain = None


class LlamaRuntime:
    def __init__(self, llama: llama_cpp.Llama, sampling: SamplingSettings) -> None:
        self._llama = llama
        self._vocab = llama._model.vocab
        self._sampling = sampling
        self._seed = sampling.seed if sampling.seed is not None else random.getrandbits(31)
        self._piece_buffer = ctypes.create_string_buffer(_PIECE_BUFFER_BYTES)

    @classmethod
    def load(cls, path: Path, *, context_size: int, threads: int, sampling: SamplingSettings) -> LlamaRuntime:
        llama = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=context_size,
            n_batch=min(512, context_size),
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        return cls(llama, sampling)

    # --- facts about the model ---------------------------------------------------------------

    def model_facts(self, *, name: str | None = None) -> ModelFacts:
        metadata = self._llama.metadata
        path = Path(self._llama.model_path)
        architecture = metadata.get("general.architecture", "")
        template = metadata.get("tokenizer.chat_template")
        return ModelFacts(
            path=path,
            name=name or served_model_name(metadata.get("general.name"), path),
            architecture=architecture,
            chat_template=template or builtin_chat_template(architecture),
            chat_template_from_model=bool(template),
            special_tokens=SpecialTokens(
                bos_token=self.token_text(self._llama.token_bos()),
                eos_token=self.token_text(self._llama.token_eos()),
                nl_token="\n",
            ),
            markers=detect_section_markers(self._is_single_token),
        )

    def _is_single_token(self, text: str) -> bool:
        return len(self.tokenize(text, add_bos=False)) == 1

    # --- GenerationBackend ---------------------------------------------------------------------

    @property
    def context_size(self) -> int:
        return int(self._llama.n_ctx())

    def tokenize(self, text: str, *, add_bos: bool) -> list[int]:
        # special=True: the template's control tokens (<start_of_turn>, ...) become tokens.
        return list(self._llama.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def token_text(self, token: int) -> str:
        return self._piece(token, special=True).decode("utf-8", errors="replace")

    def token_bytes(self, token: int) -> bytes:
        return self._piece(token, special=False)

    def is_end_of_generation(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def evaluate(self, tokens: list[int], *, fresh: bool) -> None:
        if fresh:
            self._llama.reset()  # type: ignore[no-untyped-call]  # llama-cpp-python leaves it unannotated
        self._llama.eval(tokens)

    def new_sampler(self, grammar: GrammarConstraint | None) -> ChainSampler:
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        try:
            if grammar is not None:
                self._add(chain, self._grammar_sampler(grammar))
            self._add_sampling(chain)
        except BaseException:
            llama_cpp.llama_sampler_free(chain)
            raise
        return ChainSampler(chain, self._llama.ctx)

    def close(self) -> None:
        self._llama.close()

    # --- internals -------------------------------------------------------------------------------

    def _piece(self, token: int, *, special: bool) -> bytes:
        size = llama_cpp.llama_token_to_piece(self._vocab, token, self._piece_buffer, _PIECE_BUFFER_BYTES, 0, special)
        if size < 0:  # the piece is longer than the buffer: -size is what it needs
            buffer = ctypes.create_string_buffer(-size)
            size = llama_cpp.llama_token_to_piece(self._vocab, token, buffer, -size, 0, special)
            return buffer.raw[:size]
        return self._piece_buffer.raw[:size]

    def _grammar_sampler(self, grammar: GrammarConstraint) -> llama_cpp.llama_sampler_p:
        if isinstance(grammar, JsonSchemaGrammar):
            try:
                gbnf, root = json_schema_to_gbnf(grammar.schema), "root"
            except Exception as error:  # the converter raises anything from
                # AssertionError to AttributeError on schemas it cannot handle.
                raise GenerationFailure(
                    "GrammarSyntaxError", f"JSON schema cannot be converted to a grammar: {error}"
                ) from error
        else:
            assert isinstance(grammar, GbnfGrammar)
            gbnf, root = grammar.grammar, grammar.root
        sampler: llama_cpp.llama_sampler_p = llama_cpp.llama_sampler_init_grammar(
            self._vocab, gbnf.encode("utf-8"), root.encode("utf-8")
        )
        if not sampler:
            raise GenerationFailure(
                "GrammarInitializationFailed",
                f"llama.cpp could not initialise the grammar (root rule {root!r})",
            )
        return sampler

    def _add_sampling(self, chain: llama_cpp.llama_sampler_p) -> None:
        settings = self._sampling
        if settings.greedy:
            self._add(chain, llama_cpp.llama_sampler_init_greedy())
            return
        last_n = self.context_size if settings.penalty_last_n < 0 else settings.penalty_last_n
        # The binding still declares the old leading n_vocab argument, the C function no longer
        # takes it; passing last_n in both places is right for either signature.
        self._add(
            chain,
            llama_cpp.llama_sampler_init_penalties(
                last_n,
                last_n,
                settings.penalty_repeat,
                settings.penalty_frequency,
                settings.penalty_presence,
            ),
        )
        self._add(chain, llama_cpp.llama_sampler_init_top_k(settings.top_k))
        self._add(chain, llama_cpp.llama_sampler_init_top_p(settings.top_p, 1))
        self._add(chain, llama_cpp.llama_sampler_init_min_p(settings.min_p, 1))
        self._add(chain, llama_cpp.llama_sampler_init_temp(settings.temperature))
        self._add(chain, llama_cpp.llama_sampler_init_dist(self._seed))

    @staticmethod
    def _add(chain: llama_cpp.llama_sampler_p, sampler: llama_cpp.llama_sampler_p) -> None:
        llama_cpp.llama_sampler_chain_add(chain, sampler)


def default_thread_count(slots: int) -> int:
    """Share the cores between slots: each slot decodes on its own thread pool."""
    return max(1, (os.cpu_count() or 1) // max(1, slots))
