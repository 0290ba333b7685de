"""What the fuzzer sends: a generated body (tests/request_strategies.py), sometimes made hostile.

Hostile means what an attacker with one valid key can send: unknown fields, wrong top-level
types, huge strings, deep nesting, broken or truncated JSON, the wrong content type. Bodies past
the request owner's limits (compat_api/request_lifecycle.py: JSON depth, body cap) are kept
apart in ``DEEP_JSON_CASES`` and ``OVERSIZED_BODY``, each a test of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.request_strategies import SHORT_TEXT, json_values


@dataclass(frozen=True)
class FuzzCase:
    kind: str
    body: bytes
    content_type: str = "application/json"


def encoded(body: Any) -> bytes:
    # ensure_ascii: lone surrogates travel as \\ud800 escapes, as a hostile client would send them.
    return json.dumps(body).encode()


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def hostile(bodies: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[FuzzCase]:
    """Half the cases are generated bodies as they are; the other half made hostile."""
    as_is = bodies.map(lambda b: FuzzCase("generated", encoded(b)))
    made_hostile = [
        st.tuples(bodies, st.dictionaries(SHORT_TEXT, json_values, min_size=1, max_size=3)).map(
            lambda pair: FuzzCase("unknown fields", encoded({**pair[1], **pair[0]}))
        ),
        st.tuples(
            bodies,
            st.sampled_from(
                [
                    "messages",
                    "input",
                    "metadata",
                    "tools",
                    "instructions",
                    "user",
                    "model",
                    "max_tokens",
                    "reasoning_content",
                ]
            ),
            st.integers(10_000, 1_500_000),
        ).map(lambda t: FuzzCase("huge string", encoded({**t[0], t[1]: "x" * t[2]}))),
        st.tuples(
            bodies,
            st.sampled_from(["metadata", "tools", "messages", "input", "response_format", "text"]),
            st.integers(20, 400),
        ).map(lambda t: FuzzCase("deep value", encoded({**t[0], t[1]: _nested(t[2], "leaf")}))),
        json_values.map(lambda v: FuzzCase("wrong top-level type", encoded(v if not isinstance(v, dict) else [v]))),
        bodies.map(lambda b: FuzzCase("truncated JSON", encoded(b)[: max(1, len(encoded(b)) // 2)])),
        st.sampled_from([b"", b"{", b"nul", b'{"model": NaN}', b"\xff\xfe", b"[][][]", b'{"a":1}{"b":2}']).map(
            lambda raw: FuzzCase("broken JSON", raw)
        ),
        bodies.map(lambda b: FuzzCase("wrong content type", encoded(b), "text/plain")),
    ]
    return st.integers(0, 2 * len(made_hostile) - 1).flatmap(
        lambda roll: made_hostile[roll] if roll < len(made_hostile) else as_is
    )


# Refused by the request owner's JSON depth limit (before it, a RecursionError and a 500).
DEEP_JSON_CASES = [
    FuzzCase("deep JSON (100,000 levels)", b'{"model":"default","metadata":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
]

# Over the request owner's body cap: a 413.
OVERSIZED_BODY = FuzzCase("body over 20 MiB", b'{"model":"default","input":"' + b"x" * (21 * 1024 * 1024) + b'"}')
