"""Reading quantizer configurations without executing them.

QKeras stores a quantizer either as a dict (`{"class_name": "quantized_bits", "config": {...}}`, in
Keras 3 files with `module` / `registered_name` too) or as the string its `__str__` writes, such as
`quantized_bits(4,0,1,alpha='auto_po2')` or `quantized_relu(3,1)`. QKeras turns such strings back
into objects with `eval`; here they are parsed with `ast` and only literal arguments are accepted,
so nothing in a model file ever runs.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

from nnhls.errors import FrontendError

MAX_SPEC_LENGTH = 2000
"""Longest quantizer string accepted (a real one is a few dozen characters)."""


class QuantizerConfigError(FrontendError):
    """A quantizer configuration that cannot be read or has invalid parameters (names both)."""

    def __init__(self, where: str, problem: str):
        self.where = where
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class QuantizerCall:
    """A quantizer class name with its positional and keyword arguments."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def _literal(node: ast.expr, where: str) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as e:
        raise QuantizerConfigError(
            where, f"only literal quantizer arguments are accepted, got '{ast.unparse(node)}'"
        ) from e
    if isinstance(value, float) and not math.isfinite(value):
        raise QuantizerConfigError(where, f"non-finite argument {value}")
    return value


def parse_call(text: str, where: str) -> QuantizerCall:
    """Parse `name`, `name()` or `name(1, 2, key='v')` (literal arguments only)."""
    if len(text) > MAX_SPEC_LENGTH:
        raise QuantizerConfigError(where, f"quantizer string longer than {MAX_SPEC_LENGTH} chars")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        raise QuantizerConfigError(where, f"cannot read quantizer '{text}'") from e
    body = tree.body
    if isinstance(body, ast.Name):
        return QuantizerCall(body.id)
    if not (isinstance(body, ast.Call) and isinstance(body.func, ast.Name)):
        raise QuantizerConfigError(where, f"cannot read quantizer '{text}': expected name(args)")
    if any(k.arg is None for k in body.keywords) or any(
        isinstance(a, ast.Starred) for a in body.args
    ):
        raise QuantizerConfigError(where, f"cannot read quantizer '{text}': no * or ** arguments")
    args = tuple(_literal(a, where) for a in body.args)
    kwargs = {str(k.arg): _literal(k.value, where) for k in body.keywords}
    return QuantizerCall(body.func.id, args, kwargs)


def quantizer_call(spec: Any, where: str) -> QuantizerCall | None:
    """The quantizer a layer config holds (dict or string form); None for a missing one."""
    if spec is None:
        return None
    if isinstance(spec, str):
        return parse_call(spec, where)
    if isinstance(spec, dict) and isinstance(spec.get("class_name"), str):
        config = spec.get("config") or {}
        if not isinstance(config, dict):
            raise QuantizerConfigError(where, f"quantizer config is not a dict: {config!r}")
        name = spec["class_name"].rsplit(">", 1)[-1]
        return QuantizerCall(name, (), dict(config))
    raise QuantizerConfigError(where, f"cannot read quantizer {spec!r}")


def bind(call: QuantizerCall, params: tuple[tuple[str, Any], ...], where: str) -> dict[str, Any]:
    """Match positional and keyword arguments to the documented parameters (with defaults)."""
    names = [p for p, _ in params]
    if len(call.args) > len(names):
        raise QuantizerConfigError(
            where, f"{call.name} takes at most {len(names)} arguments, got {len(call.args)}"
        )
    values = dict(params)
    values.update(zip(names, call.args, strict=False))
    for key, value in call.kwargs.items():
        values[key] = value
    return values
