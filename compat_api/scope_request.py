"""A Django request built straight from an ASGI scope and its body (no Django handler)."""

from __future__ import annotations

import io
from typing import Any

from django.core.handlers.asgi import ASGIRequest


def request_from_scope(scope: dict[str, Any], body: bytes) -> ASGIRequest:
    return ASGIRequest(scope, io.BytesIO(body))
