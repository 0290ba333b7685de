"""Twisted's Content-Type parse, memoised under Daphne: the same answers, bounded memory."""

from __future__ import annotations

import pytest
from twisted.web import http

from oarlock.twisted_content_type import CACHE_SIZE, memoize_content_type_parsing

CONTENT_TYPES = [
    b"application/json",
    b"application/json; charset=utf-8",
    b"Application/JSON ; charset=UTF-8",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
    b"text/plain;;;",
    b"not a content type",
    b"",
    "application/json; name=\u00e9".encode("latin-1"),
]


@pytest.fixture
def original(monkeypatch: pytest.MonkeyPatch) -> object:
    # Twisted's own function, even if this process already imported oarlock.asgi (which
    # memoises it); whatever the test does to the module attribute is undone afterwards.
    parse = getattr(http._parseContentType, "__wrapped__", http._parseContentType)
    monkeypatch.setattr(http, "_parseContentType", parse)
    return parse


def test_the_memoised_parse_answers_as_twisted_does(original: object) -> None:
    expected = [original(value) for value in CONTENT_TYPES]  # type: ignore[operator]
    memoize_content_type_parsing()
    assert http._parseContentType is not original
    assert [http._parseContentType(value) for value in CONTENT_TYPES] == expected
    # Twice: the second answers come from the cache, and are the same.
    assert [http._parseContentType(value) for value in CONTENT_TYPES] == expected
    assert http._parseContentType.cache_info().hits == len(CONTENT_TYPES)  # type: ignore[attr-defined]


def test_ever_new_values_cost_a_bounded_cache(original: object) -> None:
    memoize_content_type_parsing()
    for number in range(CACHE_SIZE * 4):
        assert http._parseContentType(b"application/x-%d" % number) == b"application/x-%d" % number
    assert http._parseContentType.cache_info().currsize == CACHE_SIZE  # type: ignore[attr-defined]


def test_memoising_twice_wraps_once(original: object) -> None:
    memoize_content_type_parsing()
    memoised = http._parseContentType
    memoize_content_type_parsing()
    assert http._parseContentType is memoised
