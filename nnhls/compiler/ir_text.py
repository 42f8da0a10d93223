"""Parsing IR text that may be truncated or hostile: fail fast, never hang.

xDSL 0.74 lexes a string literal with `"(?:[^"\\...]+|\\...)*"`, which backtracks exponentially
when the closing quote is missing, so a file cut inside a string or a `dense<"0x...">` hex
literal makes the parser hang for minutes. `check_ir_text` finds every string literal (and
`//` comment) with a linear scan first, and `parse_ir` only hands text to xDSL once every string
is terminated and well formed. Deep nesting becomes an error instead of a RecursionError.

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


def parse_ir(ctx: Context, text: str, name: str, implicit_module: bool = True) -> ModuleOp:
    """Parse a module after `check_ir_text`; nesting too deep for the parser is an IRTextError."""
    check_ir_text(text, name)
    try:
        return Parser(ctx, text, name).parse_module(implicit_module)
    except RecursionError:
        raise IRTextError(f"{name}: IR nested too deeply to parse (limit {sys.getrecursionlimit()} frames)") from None
