"""Cluster-wide sampling parameters (Paddler has no per-request sampling; reference 0 and 3)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SamplingSettings:
    """Paddler's ``InferenceParameters`` defaults. ``temperature <= 0`` means greedy sampling
    (Paddler's ``deterministic()`` preset: temperature 0, top_k 1, penalties off)."""

    temperature: float = 0.8
    top_k: int = 80
    top_p: float = 0.8
    min_p: float = 0.05
    penalty_last_n: int = -1  # -1: the whole context
    penalty_repeat: float = 1.1
    penalty_frequency: float = 0.0
    penalty_presence: float = 0.8
    seed: int | None = None  # None: a new random seed per process

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0

    @classmethod
    def deterministic(cls) -> SamplingSettings:
        return cls(temperature=0.0, top_k=1, penalty_repeat=1.0, penalty_presence=0.0)
