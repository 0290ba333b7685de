"""The JSON body of a non-streaming /v1 answer: compact, UTF-8, as OpenAI sends it.

Serialised by ``compact_json`` — the one encoder of what Oarlock sends — rather than Django's
``JsonResponse`` with its own encoder and arguments: the bodies are plain JSON trees already.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from foundation.compact_json import compact_json


class CompactJsonResponse(HttpResponse):
    def __init__(self, data: Any, **kwargs: Any) -> None:
        kwargs.setdefault("content_type", "application/json")
        super().__init__(compact_json(data).encode(), **kwargs)
