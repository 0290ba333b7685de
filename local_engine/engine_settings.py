"""The local engine's settings: environment defaults, overridden by command-line flags.

The engine is its own process (``python -m local_engine``) and never loads Django
settings, so it reads its ``OARLOCK_LOCAL_*`` variables here, through the same typed readers
``oarlock/settings.py`` uses. The names and defaults mirror Paddler's balancer flags where one
exists (``--max-buffered-requests`` 30, ``--buffered-request-timeout`` 10000 ms) and Paddler's
``InferenceParameters`` for sampling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from foundation.env import env_float, env_int, env_str
from local_engine.sampling_settings import SamplingSettings


@dataclass(frozen=True, slots=True)
class EngineSettings:
    model_path: Path | None = None  # None: the packaged Gemma 3 270M GGUF
    model_name: str | None = None  # None: derived from the GGUF's general.name
    slots: int = 1
    max_buffered_requests: int = 30
    buffered_request_timeout_ms: int = 10_000
    context_size: int = 8192
    threads: int | None = None  # None: the CPU count shared between the slots
    agent_name: str = "local-engine"  # written as ``generated_by`` on every line
    sampling: SamplingSettings = field(default_factory=SamplingSettings)

    @classmethod
    def from_environment(cls) -> EngineSettings:
        defaults = cls()
        model_path = env_str("OARLOCK_LOCAL_MODEL_PATH")
        threads = env_int("OARLOCK_LOCAL_THREADS", 0)
        temperature = env_float("OARLOCK_LOCAL_TEMPERATURE", defaults.sampling.temperature)
        seed = env_int("OARLOCK_LOCAL_SEED", -1)
        return cls(
            model_path=Path(model_path).expanduser() if model_path else None,
            model_name=env_str("OARLOCK_LOCAL_MODEL_NAME") or None,
            slots=env_int("OARLOCK_LOCAL_SLOTS", defaults.slots),
            max_buffered_requests=env_int("OARLOCK_LOCAL_MAX_BUFFERED", defaults.max_buffered_requests),
            buffered_request_timeout_ms=env_int(
                "OARLOCK_LOCAL_BUFFERED_TIMEOUT_MS", defaults.buffered_request_timeout_ms
            ),
            context_size=env_int("OARLOCK_LOCAL_CONTEXT_SIZE", defaults.context_size),
            threads=threads or None,
            agent_name=env_str("OARLOCK_LOCAL_AGENT_NAME", defaults.agent_name),
            sampling=sampling_for(temperature, seed=None if seed < 0 else seed),
        )

    def problems(self) -> list[str]:
        problems = []
        if self.slots < 1:
            problems.append("slots must be at least 1")
        if self.max_buffered_requests < 0:
            problems.append("max buffered requests must be 0 or more")
        if self.buffered_request_timeout_ms < 0:
            problems.append("the buffered request timeout must be 0 or more")
        if self.context_size < 256:
            problems.append("the context size must be at least 256 tokens")
        if self.threads is not None and self.threads < 1:
            problems.append("threads must be at least 1")
        if self.model_path is not None and not self.model_path.is_file():
            problems.append(f"model file {self.model_path} does not exist")
        return problems


def sampling_for(temperature: float, *, seed: int | None = None) -> SamplingSettings:
    """Paddler's defaults at ``temperature``; 0 selects the deterministic (greedy) preset."""
    if temperature <= 0:
        return SamplingSettings.deterministic()
    return SamplingSettings(temperature=temperature, seed=seed)
