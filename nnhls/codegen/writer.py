"""A small structured C++ writer: lines, indented blocks, comments, config structs.

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
from dataclasses import dataclass, field

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


@dataclass
class ConfigStruct:
    """One layer's config struct of parameters.h (hls4ml field names)."""

    name: str
    base: str
    fields: list[str] = field(default_factory=list[str])

    def const(self, name: str, value: int | bool | str, ctype: str = "unsigned") -> ConfigStruct:
        if isinstance(value, bool):
            self.fields.append(f"static const bool {name} = {'true' if value else 'false'};")
        else:
            self.fields.append(f"static const {ctype} {name} = {value};")
        return self

    def expr(self, name: str, expression: str, ctype: str = "unsigned") -> ConfigStruct:
        """A field derived from others, written as the expression (an edit of the fields it
        follows keeps it consistent, as in hls4ml's parameters.h)."""
        self.fields.append(f"static const {ctype} {name} = {expression};")
        return self

    def real(self, name: str, value: float) -> ConfigStruct:
        self.fields.append(f"static constexpr double {name} = {float(value)!r};")
        return self

    def array(self, name: str, values: list[int]) -> ConfigStruct:
        """A constant table read as name(i) (a function: no out-of-class definition needed)."""
        body = ", ".join(str(v) for v in values)
        self.fields.append(
            f"static unsigned {name}(unsigned i) {{ static const unsigned v[{len(values)}] = {{{body}}}; return v[i]; }}"
        )
        return self

    def typedef(self, name: str, cpp: str) -> ConfigStruct:
        self.fields.append(f"typedef {cpp} {name};")
        return self

    def write(self, w: CppWriter) -> None:
        with w.block(f"struct {self.name} : {self.base}", ";"):
            w.lines(self.fields)
