"""Compact JSON text: no spaces after separators, non-ASCII kept as is.

The one serialisation of everything Oarlock sends or measures, so a grammar's schema string and
the byte count checked against the upstream limit match what actually goes on the wire.

It runs once per streamed event, so the encoder is built once: ``json.dumps`` with arguments
constructs a ``JSONEncoder`` and its C encoder on every call, which doubled the cost of a
chunk (bench/RESULTS.md). Values serialised here are trees (never self-referencing), so the
circular-reference bookkeeping is left out; the output is byte for byte ``json.dumps``'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring

try:
    from json.encoder import c_make_encoder  # type: ignore[attr-defined]  # the C accelerator is not in typeshed
except ImportError:  # pragma: no cover - CPython always has the C accelerator
    c_make_encoder = None

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def _build_encoder() -> Callable[[object], str]:
    if c_make_encoder is None:  # pragma: no cover
        return _ENCODER.encode
    # The arguments JSONEncoder.iterencode passes for these settings: no markers (no circular
    # check), default(), non-ASCII kept, no indent, ":" and ",", unsorted, no skipped keys, NaN allowed.
    encode_chunks = c_make_encoder(None, _ENCODER.default, encode_basestring, None, ":", ",", False, False, True)

    def encode(value: object) -> str:
        return "".join(encode_chunks(value, 0))

    return encode


compact_json: Callable[[object], str] = _build_encoder()
