"""Every error and warning nnhls raises on purpose: one root for each.

Errors. `NnhlsError` is the root. `UserError` and its subclasses mean "the input is wrong" (a
model, a configuration, a file, an option): their message is one line naming the problem (layer,
key, value), and the command-line tools print exactly that line and exit non-zero. Any other
exception, including a bare `NnhlsError` or an `InternalError`, is a bug in nnhls and stays a
traceback. Subclasses also derive from the builtin exception a caller would expect
(`ConfigError` is a `ValueError`, `ProjectExistsError` a `FileExistsError`...), so existing
`except ValueError:` code keeps working.

    try:
        model = nnhls.converters.convert_from_config("config.yml")
    except nnhls.errors.UserError as error:
        print(error)          # e.g. "HLSConfig.LayerName.fc1: unknown key 'ReuseFactr' ..."

Warnings go through `warnings.warn` with a category below `NnhlsWarning`, so library users can
filter them and tests can assert on them:

    with warnings.catch_warnings():
        warnings.simplefilter("error", nnhls.errors.PrecisionWarning)   # treat as errors
        ...

Every warning names the layer (or the model) it is about. The command-line tools print them as
`warning: <message>`.
"""

from __future__ import annotations

import warnings

# ----- errors ------------------------------------------------------------------------------------------


class NnhlsError(Exception):
    """Root of every exception nnhls raises on purpose."""


class InternalError(NnhlsError):
    """A state nnhls should never reach: a bug in nnhls, reported with its traceback."""


class UserError(NnhlsError):
    """Bad input (model, configuration, file, option): a one-line message naming the problem.
    Control characters in the message (a layer name holding a newline) are shown escaped."""

    def __init__(self, *args: object):
        super().__init__(*(_one_line(a) if isinstance(a, str) else a for a in args))


def _one_line(message: str) -> str:
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in message)


class ConfigError(UserError, ValueError):
    """An invalid configuration: unknown key, bad value, or a key that does not apply."""


class PrecisionError(UserError, ValueError):
    """A precision string or type that cannot describe an ap_fixed / ap_int type."""


class PipelineError(UserError, ValueError):
    """A pass pipeline or stage name that does not exist."""


class ModelError(UserError, ValueError):
    """A model that cannot be compiled as given (front ends, passes and lowering raise these)."""


class FrontendError(ModelError):
    """Base of the errors a front end raises for a model it cannot read."""


class CodegenError(UserError, ValueError):
    """IR that cannot be turned into C++ (names the layer), or a bad project or file name."""


class ProjectError(UserError, FileNotFoundError):
    """A project directory that is not (or no longer) a complete nnhls project."""


class ProjectExistsError(UserError, FileExistsError):
    """The output directory (or archive) holds files nnhls did not write."""


class InputDataError(UserError, ValueError):
    """Input arrays that do not fit the model (count, shape, batch size) or cannot be read."""


class ToolError(UserError, RuntimeError):
    """An external tool (g++, Vitis HLS) failed; the message carries its diagnostics."""


class ToolNotFoundError(UserError, FileNotFoundError):
    """An external tool (g++, Vitis HLS, Vivado HLS) is not installed or not on PATH."""


# ----- warnings ----------------------------------------------------------------------------------------


class NnhlsWarning(UserWarning):
    """Root of every warning nnhls emits."""


class PrecisionWarning(NnhlsWarning):
    """A value or type that loses range: a capped inferred type, constants outside their type."""


class InputRangeWarning(PrecisionWarning):
    """Inputs given to predict() beyond the input layer's type (they wrap or saturate)."""


class OverflowWarning(PrecisionWarning):
    """Values inside the model (results, accumulators) saturated or wrapped on the data predicted."""


class ScheduleWarning(NnhlsWarning):
    """A schedule setting nnhls changed or ignored (snapped reuse factor, dropped interval...)."""


class ConfigWarning(NnhlsWarning):
    """A configuration that is accepted but does not do what it may look like it does."""


class ApproximationWarning(NnhlsWarning):
    """A result that is approximated (a table, a fitted quantizer): the message names the layer."""


class ProjectWarning(NnhlsWarning):
    """A written project differs from the model: files edited by hand that write() replaced, or
    edits that the numpy emulator (which runs the IR, not the C++) does not see."""


def warn(message: str, category: type[NnhlsWarning], stacklevel: int = 2) -> None:
    """Emit one nnhls warning (a thin wrapper so every call site names its category)."""
    warnings.warn(message, category, stacklevel=stacklevel + 1)


def format_warning(message: Warning | str, category: type[Warning]) -> str:
    """How the command-line tools print a warning: `warning: <message>` for ours."""
    if issubclass(category, NnhlsWarning):
        return f"warning: {message}\n"
    return f"{category.__name__}: {message}\n"
