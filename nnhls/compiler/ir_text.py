"""Parsing IR text that may be truncated or hostile: fail fast, never hang.

xDSL 0.74 lexes a string literal with `"(?:[^"\\...]+|\\...)*"`, which backtracks exponentially
when the closing quote is missing, so a file cut inside a string or a `dense<"0x...">` hex
literal makes the parser hang for minutes. `check_ir_text` finds every string literal (and
`//` comment) with a linear scan first, and `parse_ir` only hands text to xDSL once every string
is terminated and well formed. Deep nesting becomes an error instead of a RecursionError.

xDSL prints the non-ASCII characters of a string as escaped UTF-8 bytes (`"\\C3\\A9"` for `"é"`)
and parses such a literal back as a bytes attribute, not a string, so a layer named `dense_é`
would not survive a round trip: `print_ir` writes those characters as they are, and `parse_ir`
reads either spelling as the string.

    parse_ir(ctx, text, "model.hls.mlir")   # ModuleOp, or IRTextError / xDSL ParseError
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from nnhls.errors import UserError

MAX_IR_BYTES = 1 << 30
"""IR files larger than 1 GiB are refused before reading."""

# Possessive quantifiers: a string token matches or fails in linear time; a lone quote is a
# string that is unterminated (a truncated file) or holds an escape MLIR does not have.
_TOKENS = re.compile(r'//[^\n]*+|"(?:[^"\\\n\v\f]++|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*+"|"')


class IRTextError(UserError, ValueError):
    """IR text that cannot be parsed (truncated, malformed, too deep)."""


def check_ir_text(text: str, name: str) -> None:
    """Raise IRTextError at the first unterminated or malformed string literal."""
    for match in _TOKENS.finditer(text):
        if match.group() == '"':
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            raise IRTextError(
                f"{name}:{line}:{column}: unterminated or malformed string literal (is the file truncated?)"
            )


def read_ir_file(path: Path) -> str:
    """The text of an IR file: at most MAX_IR_BYTES, UTF-8."""
    size = path.stat().st_size
    if size > MAX_IR_BYTES:
        raise IRTextError(f"{path}: {size} bytes of IR is more than the {MAX_IR_BYTES >> 20} MiB nnhls reads")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise IRTextError(f"{path}: not UTF-8 text (byte {error.start})") from None


_PIECES = re.compile(r'\\(?:["nt\\]|[0-9A-Fa-f]{2})|[^\\]+')
_HIGH_ESCAPE = re.compile(r"\\[89A-Fa-f][0-9A-Fa-f]")


def _raw_utf8(literal: str) -> str:
    """A string literal (with its quotes) whose escaped bytes >= 0x80 that form UTF-8 characters
    are written as those characters; other escapes stay as they are."""
    out: list[str] = []
    pending = bytearray()
    pending_text: list[str] = []

    def flush() -> None:
        if pending:
            try:
                out.append(pending.decode("utf-8"))
            except UnicodeDecodeError:
                out.append("".join(pending_text))
            pending.clear()
            pending_text.clear()

    for piece in _PIECES.findall(literal[1:-1]):
        if len(piece) == 3 and piece[0] == "\\" and int(piece[1:], 16) >= 0x80:
            pending.append(int(piece[1:], 16))
            pending_text.append(piece)
            continue
        flush()
        out.append(piece)
    flush()
    return '"' + "".join(out) + '"'


def _with_raw_utf8(text: str) -> str:
    if _HIGH_ESCAPE.search(text) is None:
        return text
    return _TOKENS.sub(
        lambda m: _raw_utf8(m.group()) if _HIGH_ESCAPE.search(m.group()) and m.group().startswith('"') else m.group(),
        text,
    )


def print_ir(module: ModuleOp) -> str:
    """The module as text, non-ASCII characters of strings written as they are (UTF-8)."""
    return _with_raw_utf8(str(module))


def parse_ir(ctx: Context, text: str, name: str, implicit_module: bool = True) -> ModuleOp:
    """Parse a module after `check_ir_text`; nesting too deep for the parser is an IRTextError.
    Strings holding escaped UTF-8 (as xDSL prints them) are read as strings."""
    check_ir_text(text, name)
    text = _with_raw_utf8(text)
    try:
        return Parser(ctx, text, name).parse_module(implicit_module)
    except RecursionError:
        raise IRTextError(f"{name}: IR nested too deeply to parse (limit {sys.getrecursionlimit()} frames)") from None
