"""Compact JSON text: no spaces after separators, non-ASCII kept as is (escaped in journal lines).

The one serialisation of everything Oarlock sends or measures, so a grammar's schema string and
the byte count checked against the upstream limit match what actually goes on the wire.

It runs once per streamed event, so the encoder is built once: ``json.dumps`` with arguments
constructs a ``JSONEncoder`` and its C encoder on every call, which doubled the cost of a
chunk (bench/RESULTS.md). Values serialised here are trees (never self-referencing), so the
circular-reference bookkeeping is left out; the output is byte for byte ``json.dumps``'s.
Three variants share that: ``compact_json``, ``strict_compact_json`` for bodies sent to Paddler
(NaN and Infinity refused) and ``ascii_compact_json`` for journal lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring, encode_basestring_ascii

try:
    from json.encoder import c_make_encoder  # type: ignore[attr-defined]  # the C accelerator is not in typeshed
except ImportError:  # pragma: no cover - CPython always has the C accelerator
    c_make_encoder = None

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def _build_encoder(*, ascii_only: bool = False, allow_nan: bool = True) -> Callable[[object], str]:
    if c_make_encoder is None:  # pragma: no cover
        return json.JSONEncoder(
            separators=(",", ":"), ensure_ascii=ascii_only, allow_nan=allow_nan, check_circular=False
        ).encode
    # The arguments JSONEncoder.iterencode passes for these settings: no markers (no circular
    # check), default(), the string encoder, no indent, ":" and ",", unsorted, no skipped keys.
    string_encoder = encode_basestring_ascii if ascii_only else encode_basestring
    encode_chunks = c_make_encoder(None, _ENCODER.default, string_encoder, None, ":", ",", False, False, allow_nan)

    def encode(value: object) -> str:
        return "".join(encode_chunks(value, 0))

    return encode


compact_json: Callable[[object], str] = _build_encoder()
# What goes to Paddler: serde_json refuses NaN and Infinity, so they raise ValueError here.
strict_compact_json: Callable[[object], str] = _build_encoder(allow_nan=False)
# Journal lines: ASCII, so that a client's string (a lone surrogate) can never make one unwritable.
ascii_compact_json: Callable[[object], str] = _build_encoder(ascii_only=True)
