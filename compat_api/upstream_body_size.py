"""The size check on the body Oarlock is about to send to Paddler (413 before any byte goes).

Paddler refuses bodies over its own limit with a bare error; measuring the translated body
here, against ``OARLOCK_UPSTREAM_MAX_BODY_BYTES``, lets the client get a 413 that gives both
sizes. What is measured are the very bytes that are sent (``ConversationParams.encoded``).
Each endpoint words the refusal for what its clients send (messages or input items).
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings

from compat_api.errors import PayloadTooLarge
from paddler_protocol.conversation_params import ConversationParams


class RefusalMessage(Protocol):
    def __call__(self, *, size: int, limit: int) -> str: ...


def check_upstream_body_size(params: ConversationParams, *, refusal: RefusalMessage) -> None:
    size = len(params.encoded())
    limit: int = settings.OARLOCK_UPSTREAM_MAX_BODY_BYTES
    if size > limit:
        raise PayloadTooLarge(refusal(size=size, limit=limit))
