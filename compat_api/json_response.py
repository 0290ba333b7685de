"""The JSON body of a non-streaming /v1 answer: compact, UTF-8, as OpenAI sends it."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse

COMPACT_JSON_PARAMS: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": False}


class CompactJsonResponse(JsonResponse):
    def __init__(self, data: Any, **kwargs: Any) -> None:
        super().__init__(data, json_dumps_params=COMPACT_JSON_PARAMS, **kwargs)
