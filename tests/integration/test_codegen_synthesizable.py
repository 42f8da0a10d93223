"""Synthesizability of the generated firmware and the nnet kernel library (no vendor tool here).

What an HLS tool rejects or cannot size, checked on the code the tool would see (emulation-only
regions - `#ifndef __SYNTHESIS__`, NNHLS_FAST_WEIGHTS, NNHLS_FAST_PATH - removed, comments and
strings stripped): no dynamic memory (`new`, `delete`, `malloc`, `free`), no standard containers,
no unbounded loops (`while`, `do`, `goto`, `for` without a condition), no recursion (a function
calling itself), and the firmware compiles with __SYNTHESIS__ defined and variable-length arrays
as errors. Projects come from hand-written hls IR in io_parallel and io_stream.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from xdsl.parser import Parser

from nnhls.codegen.firmware import build_firmware
from nnhls.codegen.project import write_project
from nnhls.compiler.context import make_context

REPO = Path(__file__).resolve().parent.parent.parent
IR_FILES = [
    REPO / "tests" / "filecheck" / "codegen" / "dense.mlir",
    REPO / "tests" / "filecheck" / "codegen" / "conv.mlir",
    REPO / "tests" / "filecheck" / "codegen" / "activation_table.mlir",
    REPO / "tests" / "filecheck" / "codegen" / "stream.mlir",
    REPO / "tests" / "filecheck" / "codegen" / "shift_weights.mlir",
    REPO / "tests" / "filecheck" / "dialects" / "hls" / "ops.mlir",
]
FORBIDDEN = {
    "dynamic memory": re.compile(r"\bnew\b|\bdelete\b|\bmalloc\s*\(|\bcalloc\s*\(|\brealloc\s*\(|\bfree\s*\("),
    "standard container": re.compile(r"std::(vector|map|list|deque|set|string|unique_ptr|shared_ptr)|#include\s*<(vector|map|list|deque|set|string|memory)>"),
    "unbounded loop": re.compile(r"\bwhile\b|\bdo\s*\{|\bgoto\b|for\s*\([^;]*;\s*;"),
}
EMULATION_ONLY = re.compile(r"#\s*(ifndef\s+__SYNTHESIS__|if\b.*!\s*defined\s*\(?\s*__SYNTHESIS__|ifdef\s+NNHLS_FAST_(WEIGHTS|PATH))")
FUNCTION = re.compile(r"^[ \t]*(?:inline\s+|static\s+)*[\w:<>,\s*&]+?\b(\w+)\s*\([^;{}()]*\)\s*\{", re.MULTILINE)


def hls_modules() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path in IR_FILES:
        for i, chunk in enumerate(path.read_text().split("// -----")):
            if "hls.func" in chunk and "odd_table" not in chunk:
                out.append((f"{path.stem}_{i}", chunk))
    return out


def synthesis_view(text: str) -> str:
    """The text without comments, strings and emulation-only preprocessor regions."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    kept: list[str] = []
    stack: list[bool] = []  # per open #if: whether its current branch is dropped
    for line in text.splitlines():
        directive = line.strip()
        if directive.startswith("#if"):
            stack.append(bool(EMULATION_ONLY.match(directive)) or (bool(stack) and stack[-1]))
            continue
        if directive.startswith("#else") and stack:
            outer = len(stack) > 1 and stack[-2]
            stack[-1] = outer or not stack[-1]
            continue
        if directive.startswith("#endif") and stack:
            stack.pop()
            continue
        if not (stack and stack[-1]):
            kept.append(line)
    return "\n".join(kept)


def _body(text: str, start: int) -> str:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return text[start:]


def recursive_functions(text: str) -> list[str]:
    found: list[str] = []
    for match in FUNCTION.finditer(text):
        name = match.group(1)
        if name in ("if", "for", "switch", "while", "operator") or name.isupper():
            continue
        body = _body(text, match.end() - 1)
        if re.search(rf"\b{name}\s*(<[^;()]*>)?\s*\(", body[1:]):
            found.append(name)
    return found


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    roots: list[Path] = []
    for name, chunk in hls_modules():
        module = Parser(make_context(), chunk).parse_module()
        module.verify()
        fw = build_firmware(module)
        root = tmp_path_factory.mktemp(name)
        write_project(root, fw, {"ProjectName": fw.project}, chunk, force=True)
        roots.append(root)
    return roots


def synthesis_sources(root: Path) -> list[Path]:
    firmware = root / "firmware"
    files = [*firmware.glob("*.h"), *firmware.glob("*.cpp"), *(firmware / "weights").glob("*.h"), *(firmware / "nnet_utils").glob("*.h")]
    return sorted(files)


def test_covers_both_io_types(projects: list[Path]) -> None:
    texts = "".join((root / "firmware" / "parameters.h").read_text() for root in projects)
    assert "nnet::io_stream" in texts and "nnet::io_parallel" in texts
    for kernel in ("dense_config", "conv_config", "activ_config", "softmax_config", "pooling_config", "clone_config"):
        assert kernel in texts


def test_no_dynamic_memory_containers_or_unbounded_loops(projects: list[Path]) -> None:
    problems: list[str] = []
    for root in projects:
        for path in synthesis_sources(root):
            view = synthesis_view(path.read_text())
            for what, pattern in FORBIDDEN.items():
                for match in pattern.finditer(view):
                    problems.append(f"{path.relative_to(root)}: {what}: {match.group(0)!r}")
    assert not problems, "\n".join(sorted(set(problems)))


def test_no_recursion(projects: list[Path]) -> None:
    problems = [
        f"{path.name}: {name}"
        for root in projects
        for path in synthesis_sources(root)
        for name in recursive_functions(synthesis_view(path.read_text()))
    ]
    assert not problems, problems


def test_checker_catches_violations() -> None:
    bad = "void f(int n) {\n  int* p = new int[n];\n  while (n) n--;\n  f(n - 1);\n}\n"
    view = synthesis_view(bad)
    assert FORBIDDEN["dynamic memory"].search(view) and FORBIDDEN["unbounded loop"].search(view)
    assert recursive_functions(view) == ["f"]
    hidden = "#ifndef __SYNTHESIS__\nstd::vector<int> v;\n#else\nint a[4];\n#endif\n"
    assert "vector" not in synthesis_view(hidden) and "int a[4]" in synthesis_view(hidden)


def test_compiles_as_cpp11_for_synthesis_and_csim(projects: list[Path]) -> None:
    for root in projects:
        project = next(p.stem for p in (root / "firmware").glob("*.cpp"))
        includes = [f"-I{root / 'firmware' / 'ap_types'}", f"-I{root / 'firmware'}", f"-I{root}"]
        # C++11 (what the vendor tools accept): the synthesis view, then the C simulation build
        cmd = ["g++", "-std=c++11", "-fsyntax-only", "-D__SYNTHESIS__", "-Werror=vla", "-Wno-unknown-pragmas", *includes]
        result = subprocess.run([*cmd, str(root / "firmware" / f"{project}.cpp")], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        cmd = ["g++", "-std=c++11", "-fsyntax-only", "-Wall", "-Wextra", *includes, str(root / f"{project}_test.cpp")]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert result.returncode == 0 and not result.stderr, result.stderr
