"""Ids for responses and their items: ``resp_``, ``msg_``, ``rs_``, ``fc_``, ``call_`` + random.

24 alphanumerics, as OpenAI's own call ids: unique enough to never collide within a tenant, and
short enough for providers that refuse replayed tool-call ids over 40 characters.
"""

from __future__ import annotations

from compat_api.random_id import random_alphanumeric

_LENGTH = 24


def new_object_id(prefix: str) -> str:
    return prefix + "_" + random_alphanumeric(_LENGTH)
