"""The house rules of imports (docs/architecture.md), read from the source with ``ast``.

Imports follow the request path: ``compat_api`` may import ``accounts``, ``inference`` and
``usage``, never the reverse; Paddler's protocol is plain Python; the fake Paddler is test code;
and no two packages import each other, however indirectly.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
PRODUCT = ("oarlock", "foundation", "paddler_protocol", "compat_api", "inference", "local_engine", "accounts", "usage")
FRAMEWORKS = ("django", "rest_framework", "adrf", "channels", "daphne", "drf_spectacular")


def imports_of(package: str) -> Iterator[tuple[str, str]]:
    """(file, imported module) for every import in ``package``, inside functions too."""
    for path in sorted((PROJECT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield str(path.relative_to(PROJECT)), alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield str(path.relative_to(PROJECT)), node.module


def top(module: str) -> str:
    return module.split(".", 1)[0]


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {package: set() for package in PRODUCT}
    for package in PRODUCT:
        for _, module in imports_of(package):
            if top(module) in PRODUCT and top(module) != package:
                graph[package].add(top(module))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for successor in sorted(graph[node]):
            if state.get(successor) == "open":
                return [*path[path.index(successor) :], successor]
            if successor not in state and (cycle := visit(successor)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.mark.parametrize(
    "package", ["usage", "accounts", "paddler_protocol", "inference", "local_engine", "foundation"]
)
def test_nothing_below_the_openai_surface_imports_compat_api(package: str) -> None:
    offenders = [f"{file}: {module}" for file, module in imports_of(package) if top(module) == "compat_api"]
    assert offenders == []


def test_paddler_protocol_is_plain_python() -> None:
    offenders = [
        f"{file}: {module}"
        for file, module in imports_of("paddler_protocol")
        if top(module) in FRAMEWORKS
        or (top(module) in PRODUCT and top(module) not in ("paddler_protocol", "foundation"))
    ]
    assert offenders == []


def test_foundation_is_a_leaf() -> None:
    offenders = [
        f"{file}: {module}"
        for file, module in imports_of("foundation")
        if top(module) in PRODUCT and top(module) != "foundation"
    ]
    assert offenders == []


def test_no_app_imports_the_project_package() -> None:
    # oarlock/ (settings, asgi, urls) imports the apps; the apps reach settings through Django.
    offenders = [
        f"{file}: {module}"
        for package in PRODUCT
        if package != "oarlock"
        for file, module in imports_of(package)
        if top(module) == "oarlock"
    ]
    assert offenders == []


def test_production_code_never_imports_the_tests_or_the_fake_paddler() -> None:
    offenders = [
        f"{file}: {module}"
        for package in PRODUCT
        for file, module in imports_of(package)
        if top(module) == "tests" or "fake_paddler" in module
    ]
    assert offenders == []


def test_no_two_packages_import_each_other() -> None:
    assert find_cycle(package_graph()) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
