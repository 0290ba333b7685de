"""``decode_json``: the body's JSON, bounded in depth, refused with a 400 and never a 500."""

from __future__ import annotations

import json

import pytest
from rest_framework.exceptions import ParseError

from compat_api.errors import InvalidRequest
from compat_api.request_lifecycle import MAX_JSON_DEPTH, decode_json


def nested(depth: int) -> bytes:
    return b'{"a": ' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def test_json_exactly_as_deep_as_the_limit_is_accepted() -> None:
    assert decode_json(nested(MAX_JSON_DEPTH)) is not None


def test_json_one_level_deeper_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match=f"{MAX_JSON_DEPTH} levels"):
        decode_json(nested(MAX_JSON_DEPTH + 1))


def test_json_deeper_than_python_can_recurse_is_an_invalid_request_not_a_recursion_error() -> None:
    with pytest.raises(InvalidRequest):
        decode_json(b"[" * 200_000 + b"]" * 200_000)


def test_many_brackets_inside_strings_are_not_depth() -> None:
    body = json.dumps({"content": "{[" * 1000, "list": [[1], [2], [3]] * 30}).encode()
    assert decode_json(body)["content"] == "{[" * 1000


def test_malformed_json_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        decode_json(b'{"model": ')
