"""The package's dependencies point one way (ARCHITECTURE.md section 1), checked on the source.

Every `import` of an nnhls module anywhere in a file counts, at module level or inside a function
(a lazy import keeps start-up fast; it must not hide an upward dependency). The layers, bottom
first; a module may import its own layer and the layers below, never above:

    0  nnhls.errors, nnhls.quoting
    1  nnhls.dialects (nn, hls, the fixed-point, bit-growth, table and schedule rules)
    2  nnhls.ops (one module per op: its rules for every stage; the op registry)
    3  nnhls.config (the configuration model)
    4  nnhls.frontends | nnhls.passes           (neither imports the other)
    5  nnhls.codegen | nnhls.interpreters       (neither imports the other)
    6  nnhls.compiler, nnhls.sweep (the driver)
    7  nnhls (package), nnhls.converters, nnhls.utils, nnhls.backends, nnhls.model, nnhls.report,
       nnhls.templates, nnhls.tools

Plus: a pass never imports another pass (shared rules live in the dialect layer), the `nn`
dialect never imports the `hls` dialect, and the import graph has no cycle. A new top-level
module or package must be placed in LAYERS first.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "nnhls"

LAYERS: dict[str, int] = {
    "nnhls.errors": 0,
    "nnhls.quoting": 0,
    "nnhls.dialects": 1,
    "nnhls.ops": 2,
    "nnhls.config": 3,
    "nnhls.frontends": 4,
    "nnhls.passes": 4,
    "nnhls.codegen": 5,
    "nnhls.interpreters": 5,
    "nnhls.compiler": 6,
    "nnhls.sweep": 6,
    "nnhls": 7,
    "nnhls.converters": 7,
    "nnhls.utils": 7,
    "nnhls.backends": 7,
    "nnhls.model": 7,
    "nnhls.report": 7,
    "nnhls.templates": 7,
    "nnhls.tools": 7,
}
"""The layer of each top-level module or package of nnhls (longest prefix wins)."""

SIBLINGS: tuple[tuple[str, str], ...] = (
    ("nnhls.frontends", "nnhls.passes"),
    ("nnhls.codegen", "nnhls.interpreters"),
)
"""Packages side by side in one layer, which must not import each other."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path, name: str) -> set[str]:
    """Every nnhls module `path` imports, anywhere in the file (`from x import y` counts x.y when
    x.y is a module, else x)."""
    known = modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {m for m in found if m == "nnhls" or m.startswith("nnhls.")}


def layer(name: str) -> int:
    prefix = name
    while prefix not in LAYERS:
        if "." not in prefix:
            raise AssertionError(f"{name} is in no layer: add it to LAYERS in {__file__}")
        prefix = prefix.rpartition(".")[0]
    return LAYERS[prefix]


@cache
def graph() -> dict[str, set[str]]:
    return {name: imported(path, name) - {name} for name, path in modules().items()}


def test_every_module_has_a_layer() -> None:
    for name in modules():
        layer(name)


def test_imports_point_down() -> None:
    upward = [
        f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)})"
        for name, targets in graph().items()
        for target in sorted(targets)
        if layer(target) > layer(name)
    ]
    assert not upward, "\n".join(upward)


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize(("a", "b"), SIBLINGS)
def test_siblings_stay_apart(a: str, b: str) -> None:
    crossing = [
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in sorted(targets)
        if (_in(name, a) and _in(target, b)) or (_in(name, b) and _in(target, a))
    ]
    assert not crossing, "\n".join(crossing)


def test_passes_do_not_import_each_other() -> None:
    crossing = [
        f"{name} imports {target}"
        for name, targets in graph().items()
        if name.startswith("nnhls.passes.")
        for target in sorted(targets)
        if target.startswith("nnhls.passes.")
    ]
    assert not crossing, "\n".join(crossing)


def test_nn_dialect_does_not_import_hls() -> None:
    assert "nnhls.dialects.hls" not in graph()["nnhls.dialects.nn"]


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for target in sorted(edges.get(name, ())):
            if target not in edges:
                continue
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[name] = 2
        return None

    for name in sorted(edges):
        if name not in state and (cycle := visit(name)) is not None:
            raise AssertionError("import cycle: " + " -> ".join(cycle))


def test_the_checker_sees_function_level_imports(tmp_path: Path) -> None:
    """A lazy import inside a function counts like any other (the test would miss cycles else)."""
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from nnhls.compiler import pipeline\n    return pipeline\n")
    assert "nnhls.compiler.pipeline" in imported(source, "nnhls.dialects.probe")
