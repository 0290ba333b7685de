"""Load the model into one context per slot and assemble the engine around them."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

from local_engine.chat_template import ChatTemplate
from local_engine.engine_settings import EngineSettings
from local_engine.generation import GenerationContext
from local_engine.inference_engine import InferenceEngine
from local_engine.llama_runtime import LlamaRuntime, default_thread_count
from local_engine.model_file import packaged_model_path

logger = logging.getLogger(__name__)


def load_runtimes(settings: EngineSettings) -> list[LlamaRuntime]:
    path = settings.model_path or packaged_model_path()
    threads = settings.threads or default_thread_count(settings.slots)
    started = time.monotonic()
    runtimes = [
        LlamaRuntime.load(path, context_size=settings.context_size, threads=threads, sampling=settings.sampling)
        for _ in range(settings.slots)
    ]
    logger.info(
        "loaded %s into %d slot(s) (context %d, %d thread(s) each) in %.1fs",
        path,
        settings.slots,
        settings.context_size,
        threads,
        time.monotonic() - started,
    )
    return runtimes


def build_engine(runtimes: Sequence[LlamaRuntime], settings: EngineSettings) -> InferenceEngine:
    model = runtimes[0].model_facts(name=settings.model_name)
    if not model.chat_template_from_model:
        logger.info(
            "%s has no chat template in its metadata: using the built-in one for %r",
            Path(model.path).name,
            model.architecture,
        )
    return InferenceEngine(
        backends=runtimes,
        context=GenerationContext(model=model, template=ChatTemplate(model.chat_template), new_call_id=new_call_id),
        max_buffered=settings.max_buffered_requests,
        buffered_timeout=settings.buffered_request_timeout_ms / 1000,
    )


def new_call_id() -> str:
    return f"call_{secrets.token_hex(12)}"
