"""A small structured C++ writer: lines, indented blocks, comments.

    w = CppWriter()
    with w.block("void f(int x)"):
        w.line("x++;")
    w.text()  # 'void f(int x) {\\n  x++;\\n}\\n'

The emitter builds every generated file through this class (no template files with marker
comments), so indentation and braces are always balanced.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nnhls.quoting import cpp_comment_text

INDENT = "  "


class CppWriter:
    """Accumulates C++ lines with the current indentation."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._depth = 0

    def line(self, text: str = "") -> None:
        self._lines.append(f"{INDENT * self._depth}{text}" if text else "")

    def lines(self, texts: list[str]) -> None:
        for text in texts:
            self.line(text)

    def comment(self, text: str) -> None:
        """`//` lines; a line that could splice the next one (trailing backslash, trigraph) or
        holds control characters is written as an escaped string literal instead."""
        for part in text.splitlines() or [""]:
            self.line(f"// {cpp_comment_text(part.rstrip())}".rstrip())

    def pragma(self, text: str) -> None:
        """A literal `#pragma HLS ...` line (g++ ignores it: the emulation build passes
        -Wno-unknown-pragmas)."""
        self.line(f"#pragma {text}")

    @contextmanager
    def block(self, head: str, tail: str = "") -> Iterator[None]:
        self.line(f"{head} {{")
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            self.line(f"}}{tail}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"
