"""Local JSON Schema references (``#``, ``#/$defs/Name``, any ``#/...`` JSON pointer).

Only references into the schema itself can be followed: neither Oarlock nor Paddler's agent
fetches remote schemas, so any other reference is refused where it is written.
"""

from __future__ import annotations

from typing import Any

from compat_api.schema_budget import SchemaPath, SchemaRejected


def resolve_local_reference(root: Any, reference: str, path: SchemaPath) -> Any:
    """The schema ``reference`` points to inside ``root``, or ``SchemaRejected`` at ``path``."""
    shown = reference[:100]
    if not reference.startswith("#"):
        raise SchemaRejected(f"Only local references ('#/$defs/...') are supported; cannot resolve {shown!r}.", path)
    target: Any = root
    for token in reference[1:].split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and token in target:
            target = target[token]
        elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
            target = target[int(token)]
        else:
            raise SchemaRejected(f"The reference {shown!r} points to nothing in the schema.", path)
    if not isinstance(target, (dict, bool)):
        raise SchemaRejected(f"The reference {shown!r} does not point to a schema.", path)
    return target
