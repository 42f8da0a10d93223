"""The xDSL context every nnhls tool uses: builtin, func and arith, plus our `nn` and `hls`.

The two dialects hold every op registered in nnhls.ops (the built-ins, and any op a user module
added before the context is made). xDSL 0.74 ships an experimental dialect that is also called
`hls`; it is never loaded here.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin
from xdsl.dialects.func import Func

from nnhls import ops


def make_context() -> Context:
    """A context with every dialect nnhls IR can contain, loaded eagerly."""
    ctx = Context()
    for dialect in (Builtin, Func, Arith, ops.nn_dialect(), ops.hls_dialect()):
        ctx.load_dialect(dialect)
    return ctx
