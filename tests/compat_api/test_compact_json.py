"""compact_json: the same bytes as json.dumps(separators=(",", ":"), ensure_ascii=False)."""

from __future__ import annotations

import json

import pytest

from foundation.compact_json import compact_json

VALUES = [
    {"a": 'é\u2028"\\\n日本', "b": [1, 2.5, None, True, False], "c": {"d": 1e300, "e": 10**30}},
    {"choices": [{"index": 0, "delta": {"content": " lorem"}, "finish_reason": None}]},
    "text",
    1.5,
    None,
    [],
    {},
    {1: "int keys become strings"},
    {"n": float("nan"), "i": float("inf")},
]


@pytest.mark.parametrize("value", VALUES)
def test_compact_json_writes_what_json_dumps_writes(value: object) -> None:
    assert compact_json(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_a_value_json_cannot_write_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        compact_json({"when": object()})
