"""Compact JSON text: no spaces after separators, non-ASCII kept as is.

The one serialisation of everything Oarlock sends or measures, so a grammar's schema string and
the byte count checked against the upstream limit match what actually goes on the wire.
"""

from __future__ import annotations

import json


def compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
