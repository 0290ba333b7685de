"""Ids for responses and their items: ``resp_``, ``msg_``, ``rs_``, ``fc_``, ``call_`` + random.

24 alphanumerics, as OpenAI's own call ids: unique enough to never collide within a tenant, and
short enough for providers that refuse replayed tool-call ids over 40 characters.
"""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_LENGTH = 24


def new_object_id(prefix: str) -> str:
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
