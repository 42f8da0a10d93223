"""Names made from model layer names: SSA name hints and C identifiers (one rule each).

    ssa_name("dense/1")      -> "dense_1"    (xDSL name hints: [A-Za-z0-9_$.-], not a digit first)
    c_identifier("dense/1")  -> "dense_1"    (C++: [A-Za-z0-9_], no keyword, not a digit first)
    c_identifier("1x")       -> "l_1x"
"""

from __future__ import annotations

import re

_SSA_CHARS = re.compile(r"[^A-Za-z0-9_$.-]")
_C_CHARS = re.compile(r"[^0-9A-Za-z_]")
_C_IDENTIFIER = re.compile(r"[A-Za-z_][0-9A-Za-z_]*")

CPP_KEYWORDS = frozenset(
    ["alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char", "class", "const", "constexpr", "continue", "default", "delete", "do", "double", "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "nullptr", "operator", "or", "private", "protected", "public", "register", "return", "short", "signed", "sizeof", "static", "struct", "switch", "template", "this", "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void", "volatile", "while", "xor", "main", "nnet", "hls", "std"]
)
"""C++ keywords plus the names generated code relies on (main, the nnet and hls namespaces)."""


def ssa_name(text: str) -> str:
    """A valid xDSL SSA name hint made from a layer name."""
    name = _SSA_CHARS.sub("_", text)
    return name if name and not name[0].isdigit() else f"l_{name}"


def c_identifier(text: str, prefix: str = "l_", empty: str = "layer") -> str:
    """A C identifier made from a name: invalid characters become `_`, an empty name `empty`, and
    a name starting with a digit or equal to a keyword gets `prefix`."""
    name = _C_CHARS.sub("_", text) or empty
    if name[0].isdigit() or name in CPP_KEYWORDS:
        name = f"{prefix}{name}"
    return name


def is_c_identifier(text: str) -> bool:
    """Whether `text` is usable as a C identifier as it is."""
    return bool(_C_IDENTIFIER.fullmatch(text)) and text not in CPP_KEYWORDS
