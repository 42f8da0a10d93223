"""One function per target language for every string that reaches generated text.

Names come from model files, configs and command lines, so they are hostile until proven
otherwise. Nothing is pasted into C++, Tcl or a shell command except through these functions:

    cpp_identifier("/0/Gemm")        'l_0_Gemm'        a legal, non-reserved C++ identifier stem
    check_cpp_identifier("myproj")   'myproj'          the same rules, as an error for user-chosen names
    cpp_string('say "hi"\\n')        '"say \\"hi\\"\\012"'  a C++ string literal (printable ASCII inside)
    cpp_comment_text("a\\nb")         '"a\\012b"'       safe on a `//` comment line
    tcl_word("a $b [c]")             '"a \\$b \\[c\\]"'  one Tcl word, no substitution
    shell_word("a b")                "'a b'"            one POSIX shell word

Identifier rules (C++17 and the headers a generated project includes): ASCII letters, digits and
single underscores, starting with a letter, not ending with '_' (derived names append `_suffix`,
which would make a reserved `__`); not a keyword or alternative token (`and_eq`, `concept`,
`static_cast`...), not a macro or global name of the C/C++ and POSIX headers (`stdin`,
`INFINITY`, `size_t`; the list is `cpp_reserved.txt`, checked against the installed compiler by
a test), not an ap_/AP_/nnhls names prefix. Leading underscores, `__` and `_Upper` are reserved
by the standard (ONNX exports produce `_0_Gemm`-style names: the stem drops them).
"""

from __future__ import annotations

import hashlib
import re
import shlex
from functools import cache
from pathlib import Path

from nnhls.errors import UserError

CPP_KEYWORDS = frozenset(
    ["alignas", "alignof", "and", "and_eq", "asm", "atomic_cancel", "atomic_commit", "atomic_noexcept", "auto", "bitand", "bitor", "bool", "break", "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval", "constexpr", "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "reflexpr", "register", "reinterpret_cast", "requires", "restrict", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct", "switch", "synchronized", "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename", "typeof", "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq", "final", "override", "import", "module", "transaction_safe", "transaction_safe_dynamic", "main"]
)
"""C++23 keywords, alternative tokens, identifiers with a special meaning, C/GNU extras and main."""

OUR_NAMES = frozenset(
    ["nnet", "hls", "std", "defines", "parameters", "fast_weights", "fast_weight_loader", "load_weights", "run_sample", "run_job", "run_jobs", "job", "layer_sink", "kStackBytes", "kInlineOk", "blob_at", "weight_loader", "emulation_weights", "numbers", "in", "out", "s"]
)
"""Namespaces and names of the generated code itself, and the parameters in scope where the bridge
and the testbench call the top function."""

LOOP_LOCALS = frozenset(["p", "c", "i", "pixel"])
"""Loop variables of the bridge next to the tensors: no tensor variable may be named so."""

RESERVED_PREFIXES = ("ap_", "AP_", "af_", "ssdm_", "SSDM_", "NNHLS_", "nnhls_", "hls_", "HLS_")
"""Names of the ap types, the vendor's synthesis headers and our own macros."""

MAX_IDENTIFIER = 64
"""Longest user-chosen identifier (ProjectName, Namespace): it also names files and libraries."""

STEM_KEEP = 48
"""Longer layer names are cut to this many characters plus a hash of the whole name."""

_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]+")
_IDENT = re.compile(r"[A-Za-z][0-9A-Za-z]*(_[0-9A-Za-z]+)*")


class IdentifierError(UserError, ValueError):
    """A user-chosen name that cannot be a C++ identifier of the generated project."""


@cache
def reserved_names() -> frozenset[str]:
    """Macros and global names of the system headers a project includes (cpp_reserved.txt)."""
    text = (Path(__file__).with_name("cpp_reserved.txt")).read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def is_reserved(name: str) -> bool:
    """True when `name` must not be declared by generated code (exact case: macros are case-sensitive)."""
    return (
        name in CPP_KEYWORDS
        or name in OUR_NAMES
        or name.startswith(RESERVED_PREFIXES)
        or name in reserved_names()
    )


def is_legal_identifier(name: str) -> bool:
    """A C++ identifier of our rules (see the module docstring) that is not reserved."""
    return bool(_IDENT.fullmatch(name)) and not is_reserved(name)


def check_cpp_identifier(name: object, what: str, max_length: int = MAX_IDENTIFIER) -> str:
    """`name` unchanged when it is a legal identifier, else an IdentifierError naming `what`."""
    if not isinstance(name, str):
        raise IdentifierError(f"{what} must be a valid C identifier (a string), got {type(name).__name__} {name!r}")
    shown = name if len(name) <= 80 else name[:77] + "..."
    if not _IDENT.fullmatch(name):
        raise IdentifierError(
            f"{what} must be a valid C identifier (ASCII letters, digits and single '_', starting with a "
            f"letter, not ending with '_'), got {shown!r}"
        )
    if len(name) > max_length:
        raise IdentifierError(f"{what} {shown!r} is too long ({len(name)} characters, at most {max_length})")
    if is_reserved(name):
        raise IdentifierError(
            f"{what} {name!r} is reserved: a C++ keyword, a name of the C/C++ headers or ap types, or one nnhls generates"
        )
    return name


def cpp_identifier(text: str, fallback: str = "layer") -> str:
    """A readable, deterministic identifier stem made from any text (a layer or tensor name).

    Characters outside [A-Za-z0-9_] become '_', runs of '_' shrink to one, leading and trailing
    '_' go (`/0/Gemm` -> `0_Gemm`); a stem starting with a digit or reserved gets `l_`
    (`l_0_Gemm`, `l_class`); a long one is cut and keeps a short hash of the whole text.
    """
    stem = _NOT_IDENT.sub("_", text)
    stem = re.sub(r"_+", "_", stem).strip("_") or fallback
    if len(stem) > STEM_KEEP:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem[:STEM_KEEP].rstrip('_')}_{digest}"
    if stem[0].isdigit() or is_reserved(stem):
        stem = f"l_{stem}"
    return stem


_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\", "?"}


def cpp_string(text: str) -> str:
    """A C++ narrow string literal holding `text` (UTF-8 bytes), printable ASCII inside.

    Quotes, backslashes and '?' (trigraphs, still on in C++11/14) are escaped, every other byte
    is a three-digit octal escape, so no byte can end the literal or splice a line.
    """
    out = []
    for byte in text.encode("utf-8", "surrogatepass"):
        char = chr(byte)
        if char in _PLAIN:
            out.append(char)
        elif char in '"\\?':
            out.append("\\" + char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


_COMMENT_SAFE = re.compile(r"[ -~]*")


def cpp_comment_text(text: str) -> str:
    """`text` for a `//` comment line: as is when it is printable ASCII, holds no '??' and does
    not end with a backslash (a trailing backslash or `??/` trigraph would splice the next line
    into the comment), else as an escaped string literal (which always ends with '"')."""
    if _COMMENT_SAFE.fullmatch(text) and "??" not in text and not text.endswith("\\"):
        return text
    return cpp_string(text)


def tcl_word(text: str) -> str:
    """One Tcl word holding `text` verbatim: a double-quoted word with `\\ " $ [ ]` escaped and
    every other non-printable character as a `\\uXXXX` escape (no substitution can happen)."""
    out = []
    for char in text:
        if char in '\\"$[]{};':
            out.append("\\" + char)
        elif 0x20 <= ord(char) < 0x7F:
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def shell_word(text: str) -> str:
    """One POSIX shell word holding `text` verbatim (for commands we print for the user to run)."""
    return shlex.quote(text)
