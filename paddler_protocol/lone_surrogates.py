"""Lone UTF-16 surrogates in an upstream line, replaced by U+FFFD before anyone sees them.

JSON may spell a surrogate half on its own (``"\\ud83d"``), and Python decodes it, or CESU-8
bytes, into a ``str`` that cannot be encoded as UTF-8: the first chunk, event, log line or
stored row holding it would fail (a 500 for a completion the upstream produced). Paddler writes
Rust strings, which cannot hold one, so this only meets a broken or hostile upstream; a lone
half is replaced as a UTF-8 decoder replaces an invalid byte, and a pair split into two halves
is joined into its character.

Only a line that could hold one is walked: one with a ``\\u`` escape, or (bytes) the lead
byte ``0xED`` that CESU-8 surrogates start with, which a few scripts share (Hangul).
"""

from __future__ import annotations

from typing import Any


def may_hold_lone_surrogates(line: str | bytes) -> bool:
    if isinstance(line, bytes):
        return b"\\u" in line or b"\xed" in line
    return "\\u" in line or not line.isascii()


def without_lone_surrogates(value: Any) -> Any:
    """``value`` (a decoded JSON document) with every string made encodable as UTF-8."""
    if isinstance(value, str):
        return _repaired(value)
    if isinstance(value, dict):
        return {_repaired(key): without_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    return value


def _repaired(text: str) -> str:
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Through UTF-16: paired halves become their character, a lone one U+FFFD.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text
