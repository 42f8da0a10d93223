"""The xDSL context every nnhls tool uses: builtin, func and arith, plus our `nn` and `hls`.

xDSL 0.74 ships an experimental dialect that is also called `hls`; it is never loaded here.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin
from xdsl.dialects.func import Func


def make_context() -> Context:
    """A context with every dialect nnhls IR can contain, loaded eagerly."""
    from nnhls.dialects.hls import HLS
    from nnhls.dialects.nn import NN

    ctx = Context()
    for dialect in (Builtin, Func, Arith, NN, HLS):
        ctx.load_dialect(dialect)
    return ctx
