"""A body whose every value can be sent upstream as JSON: UTF-8 strings, finite numbers.

Python's JSON parser accepts what Paddler's (serde_json) does not: a lone UTF-16 surrogate in
a string (``"\\ud800"``), and numbers that overflow to infinity (``1e400``). Forwarded, the
first cannot even be encoded (a 500) and the second becomes ``Infinity``, which Paddler refuses
(a 502). Checked once per request, at C speed; the path is searched for only on failure.
"""

from __future__ import annotations

import json
import math
from typing import Any

from compat_api.errors import InvalidRequest
from compat_api.schema_budget import param_path

_STRICT_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False)


def check_sendable_json(data: Any) -> None:
    try:
        _STRICT_ENCODER.encode(data).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        path = _first_unsendable(data, ())
        where = param_path("", path).lstrip(".") if path else None
        raise InvalidRequest(
            "The request contains a value that is not valid in JSON text: a number too large to "
            "represent, or a string with an unpaired UTF-16 surrogate.",
            param=where,
            code="invalid_value",
        ) from None
    except RecursionError:
        raise InvalidRequest("The request body is nested too deeply.", code="invalid_value") from None


def _first_unsendable(value: Any, path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, str):
        return None if _encodable(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            if not _encodable(key):
                return path
            found = _first_unsendable(item, (*path, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_unsendable(item, (*path, index))
            if found is not None:
                return found
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
