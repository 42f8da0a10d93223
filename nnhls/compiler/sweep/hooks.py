"""Sweep keys that are not config keys: a setting a worker applies to a point's config itself.

A hook is named "module:function" (the worker imports it, so hooks need no registration in the
client process) and is called as `function(config, value, data) -> config` just before the
point is converted, after the config keys of the point are set; `data` is the sweep's
SweepData (or None when accuracy is not measured). It returns the config to convert, keeping
the settings it does not own. This is where an axis such as a calibration target plugs in:
`HOOKS["Calibration.Target"] = "nnhls.<module>:<function>"` choosing the precisions for the
target on the data. None is registered yet.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from nnhls.compiler.sweep.errors import SweepError

HOOKS: dict[str, str] = {}
"""Sweep key -> "module:function"."""

Hook = Callable[[dict[str, Any], Any, Any], dict[str, Any]]


def resolve(key: str, hooks: dict[str, str] | None = None) -> Hook:
    """The function of a hook key (imported on first use)."""
    table = HOOKS if hooks is None else hooks
    target = table.get(key)
    if target is None or ":" not in target:
        raise SweepError(f"sweep key '{key}' has no hook")
    module, _, name = target.partition(":")
    function = getattr(importlib.import_module(module), name, None)
    if not callable(function):
        raise SweepError(f"the hook of sweep key '{key}' ({target}) is not a function")
    return function  # pyright: ignore[reportReturnType]


def apply_hooks(config: dict[str, Any], settings: tuple[tuple[str, Any], ...], data: Any, hooks: dict[str, str]) -> dict[str, Any]:
    for key, value in settings:
        config = resolve(key, hooks)(config, value, data)
    return config
