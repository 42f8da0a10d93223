"""SSA name hints made from model layer names (C++ identifiers: nnhls.quoting).

    ssa_name("dense/1")  -> "dense_1"   (xDSL name hints: [A-Za-z0-9_$.-], not a digit first)
    ssa_name("0")        -> "l_0"
"""

from __future__ import annotations

import re

_SSA_CHARS = re.compile(r"[^A-Za-z0-9_$.-]")


def ssa_name(text: str) -> str:
    """A valid xDSL SSA name hint made from a layer name."""
    name = _SSA_CHARS.sub("_", text)
    # xDSL drops a trailing `_<digits>` from hints, so `_0` would become an empty, invalid name
    if not name or name[0].isdigit() or re.fullmatch(r"(_[0-9]*)+", name):
        return f"l_{name}"
    return name
