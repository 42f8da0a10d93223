"""Values of a Keras layer config, read strictly: what Keras writes, or one line naming the layer.

A model file is data from anywhere, so `"units": "64"`, `64.5`, `-1`, `null` or `1e9` must not
be coerced into something that converts: each is refused with the layer, the key and the value.

    values = LayerConfig("fc1", "Dense", {"units": 64.5})
    values.int("units", minimum=1)
    # LayerConfigError: layer 'fc1' (Dense): units=64.5 must be an integer >= 1
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from nnhls.errors import FrontendError

MISSING: Any = object()
"""Default of a key that must be present."""


class LayerConfigError(FrontendError):
    """A layer config value of the wrong type or out of range, or one that disagrees with the
    layer's weights."""


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class LayerConfig:
    """Strict accessors on one layer's config."""

    def __init__(self, layer: str, class_name: str, config: Mapping[str, Any]):
        self.layer = layer
        self.class_name = class_name
        self.config = config

    def error(self, message: str) -> LayerConfigError:
        return LayerConfigError(f"layer '{self.layer}' ({self.class_name}): {message}")

    def _get(self, key: str, default: Any) -> Any:
        if key in self.config:
            return self.config[key]
        if default is MISSING:
            raise self.error(f"the config has no '{key}'")
        return default

    def int(self, key: str, default: Any = MISSING, minimum: int | None = None) -> int:
        """An integer (not a bool, float or string) of at least `minimum`."""
        value = self._get(key, default)
        if not _is_int(value) or (minimum is not None and value < minimum):
            bound = f" >= {minimum}" if minimum is not None else ""
            raise self.error(f"{key}={_shown(value)} must be an integer{bound}")
        return value

    def ints(self, key: str, default: Any, rank: int, minimum: int | None = 1) -> tuple[int, ...]:
        """One integer per axis: an int for all `rank` axes, or a list of 1 or `rank` ints."""
        value = self._get(key, default)
        items = [value] if _is_int(value) else value
        bound = f" >= {minimum}" if minimum is not None else ""
        if (
            not isinstance(items, list | tuple)
            or len(items) not in (1, rank)  # pyright: ignore[reportUnknownArgumentType]
            or not all(_is_int(v) and (minimum is None or v >= minimum) for v in items)  # pyright: ignore[reportUnknownVariableType]
        ):
            raise self.error(f"{key}={_shown(value)} must be an integer{bound} or a list of {rank} of them")
        values = tuple(int(v) for v in items)  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        return values * rank if len(values) == 1 else values

    def int_list(self, key: str, minimum: int | None = None) -> list[int]:
        """A non-empty list of integers of at least `minimum` (a shape, a permutation)."""
        value = self._get(key, MISSING)
        if (
            not isinstance(value, list | tuple)
            or not value
            or not all(_is_int(v) and (minimum is None or v >= minimum) for v in value)  # pyright: ignore[reportUnknownVariableType]
        ):
            bound = f" >= {minimum}" if minimum is not None else ""
            raise self.error(f"{key}={_shown(value)} must be a list of integers{bound}")
        return [int(v) for v in value]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]

    def bool(self, key: str, default: bool) -> bool:
        """true or false (not 0, 1 or a string)."""
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"{key}={_shown(value)} must be true or false")
        return value

    def pairs(self, key: str, default: Any, rank: int) -> list[int]:
        """Padding / cropping amounts as (begin, end) per axis, flattened: an int for every side,
        one int per axis, or a (begin, end) pair per axis; all non-negative integers."""
        value = self._get(key, default)

        def amount(item: object) -> int:
            if not _is_int(item) or item < 0:  # pyright: ignore[reportOperatorIssue]
                raise self.error(
                    f"{key}={_shown(value)} must be a non-negative integer, one per axis, or (begin, end) pairs"
                )
            return item  # pyright: ignore[reportReturnType]

        if not isinstance(value, list | tuple):
            return [amount(value)] * (2 * rank)
        items: list[Any] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        if rank == 1 and len(items) == 2 and all(_is_int(v) for v in items):
            return [amount(items[0]), amount(items[1])]
        if len(items) != rank:
            amount(None)
        flat: list[int] = []
        for item in items:
            if isinstance(item, list | tuple):
                pair: list[Any] = list(item)  # pyright: ignore[reportUnknownArgumentType]
                if len(pair) != 2:
                    amount(None)
                flat += [amount(pair[0]), amount(pair[1])]
            else:
                flat += [amount(item)] * 2
        return flat

    def float(self, key: str, default: Any = MISSING, none_is_default: bool = False) -> float:
        """A finite number (int or float, not a bool or string); `null` means `default` when
        `none_is_default` (Keras writes `"negative_slope": null` for the default)."""
        value = self._get(key, default)
        if value is None and none_is_default:
            value = default
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise self.error(f"{key}={_shown(value)} must be a finite number")
        return float(value)

    def optional_float(self, key: str) -> float | None:
        """A finite number, or None when absent or `null`."""
        if self.config.get(key) is None:
            return None
        return self.float(key)

    def agrees(self, key: str, declared: int, actual: int, what: str) -> None:
        """The declared size `key` equals what the weights say."""
        if declared != actual:
            raise self.error(f"{key}={declared} disagrees with its weights ({what})")
