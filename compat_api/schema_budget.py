"""The bound on the JSON Schema work one request may cause (tool parameters, grammars).

Schemas are expanded (local ``$ref``s inlined) and checked before they are forwarded. A schema
whose references fan out — ``d0`` uses ``d1`` twice, ``d1`` uses ``d2`` twice, ... — describes
2^N nodes in a few hundred bytes, so work is measured in nodes *produced*, not bytes received:
every schema of a request draws from one ``SchemaBudget``, and the request is refused with a
400 naming the place where the budget ran out. Depth is bounded too, because inlining can nest
far deeper than the body did (and every later walk of the schema recurses).
"""

from __future__ import annotations

from collections.abc import Sequence

# Far above any real tool list (Codex's ~30 tools use ~1,500 nodes; a 100-tool MCP server a
# few thousand), and little work: a budget spent to the end costs tens of milliseconds.
MAX_SCHEMA_NODES = 20_000
# Real schemas nest a handful of levels; 64 keeps every recursive walk far from Python's limit.
MAX_SCHEMA_DEPTH = 64

SchemaPath = tuple[str | int, ...]


class SchemaRejected(Exception):
    """A schema Oarlock will not forward; ``path`` is where, relative to the schema's root."""

    def __init__(self, message: str, path: SchemaPath = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class SchemaBudget:
    """Nodes left for the rest of the request's schemas, shared by all of them."""

    __slots__ = ("limit", "nodes_left")

    def __init__(self, nodes: int = MAX_SCHEMA_NODES) -> None:
        self.limit = nodes
        self.nodes_left = nodes

    def spend(self, path: SchemaPath, depth: int) -> None:
        if depth > MAX_SCHEMA_DEPTH:
            raise SchemaRejected(
                f"The schema nests deeper than {MAX_SCHEMA_DEPTH} levels once its references are resolved.",
                path,
            )
        self.nodes_left -= 1
        if self.nodes_left < 0:
            raise SchemaRejected(
                f"The request's schemas expand to more than {self.limit} nodes once their "
                "references are resolved; simplify them or reuse fewer definitions.",
                path,
            )


def param_path(base: str, path: Sequence[str | int]) -> str:
    """OpenAI's ``param`` notation: ``tools[0].function.parameters.properties.city``."""
    text = base
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else f".{segment}"
    return text
