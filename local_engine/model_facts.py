"""What the engine needs to know about the loaded model, independent of llama.cpp."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from local_engine.chat_template import SpecialTokens
from local_engine.section_markers import SectionMarkers


@dataclass(frozen=True, slots=True)
class ModelFacts:
    path: Path
    name: str  # the model name Oarlock serves it under
    architecture: str
    chat_template: str  # Jinja source
    chat_template_from_model: bool  # False: the built-in template for the family
    special_tokens: SpecialTokens
    markers: SectionMarkers


def served_model_name(general_name: str | None, path: Path) -> str:
    """``general.name`` "Gemma 3 270m" -> "gemma-3-270m"; the file stem when there is none."""
    name = re.sub(r"[^a-z0-9._]+", "-", (general_name or "").lower()).strip("-.")
    return name or path.stem
