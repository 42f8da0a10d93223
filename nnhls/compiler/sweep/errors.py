"""Errors of the sweep driver (user errors: the CLI prints them as one line)."""

from __future__ import annotations

import importlib.util

from nnhls.errors import UserError

EXTRA = "sweep"
INSTALL_HINT = f"pip install 'nnhls[{EXTRA}]'"


class SweepError(UserError, ValueError):
    """A sweep description, results directory or cluster setting that cannot be used."""


class MissingExtraError(SweepError, ImportError):
    """An optional dependency of `nnhls sweep` is not installed."""


def require(*modules: str, what: str = "nnhls sweep") -> None:
    """Raise MissingExtraError naming the extra when any of `modules` cannot be imported."""
    missing = [m for m in modules if _missing(m)]
    if missing:
        raise MissingExtraError(f"{what} needs {', '.join(missing)}: install the sweep extra with {INSTALL_HINT}")


def _missing(module: str) -> bool:
    import sys

    if module in sys.modules:
        return sys.modules[module] is None
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True
