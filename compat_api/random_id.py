"""Random alphanumeric strings for the ids Oarlock makes up (completions, responses, items, calls).

One ``secrets.randbelow`` over all 62**n possible strings, written in base 62: uniform like a
``secrets.choice`` per character, but one read of the system's randomness instead of one per
character (``secrets.choice`` 29 times was 2-3% of a request's CPU in bench/RESULTS.md).
"""

from __future__ import annotations

import secrets
import string
from typing import Final

ALPHANUMERIC: Final = string.ascii_letters + string.digits
_BASE: Final = len(ALPHANUMERIC)


def random_alphanumeric(length: int) -> str:
    number = secrets.randbelow(_BASE**length)
    characters = []
    for _ in range(length):
        number, digit = divmod(number, _BASE)
        characters.append(ALPHANUMERIC[digit])
    return "".join(characters)
