"""PyTorch front end: export the module to ONNX in memory, then import that graph.

torch is imported lazily so the package works without it. The TorchScript exporter
(`dynamo=False`) is always used: it handles TorchScript modules, which the dynamo exporter refuses,
and the graphs it writes do not change when `onnxscript` happens to be installed (qonnx pulls it in).
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import onnx
from xdsl.dialects.builtin import ModuleOp

from nnhls.frontends.common import ModelFileError
from nnhls.frontends.onnx import import_onnx

if TYPE_CHECKING:
    import torch

ONNX_OPSET = 17


def _shapes(input_shape: tuple[int, ...] | Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """One shape or a list of shapes (per sample, without the batch axis)."""
    if input_shape and all(isinstance(d, int) for d in input_shape):
        return [tuple(input_shape)]  # type: ignore[arg-type]
    return [tuple(s) for s in input_shape]  # type: ignore[union-attr]


def _export(module: torch.nn.Module, shapes: list[tuple[int, ...]]) -> onnx.ModelProto:
    import torch

    examples = tuple(torch.zeros(1, *shape) for shape in shapes)
    names = [f"input_{i}" if len(shapes) > 1 else "input" for i in range(len(shapes))]
    buffer = io.BytesIO()
    module = module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        # The exporter's own notes (e.g. "no signature found" for TorchScript modules) say nothing
        # the user can act on; real problems surface as errors or as unsupported ONNX ops.
        warnings.simplefilter("ignore", UserWarning)
        kwargs: dict[str, Any] = {
            "dynamo": False,
            "opset_version": ONNX_OPSET,
            "input_names": names,
        }
        torch.onnx.export(module, examples, buffer, **kwargs)  # pyright: ignore[reportArgumentType]
    return onnx.load_from_string(buffer.getvalue())


def import_pytorch(
    module: torch.nn.Module,
    input_shape: tuple[int, ...] | Sequence[tuple[int, ...]],
    name: str | None = None,
    channels_last_conversion: str = "full",
    transpose_outputs: bool = True,
) -> ModuleOp:
    """Convert a PyTorch module (or a loaded TorchScript / torch.export program) into `nn`.

    input_shape excludes the batch axis; a list of shapes for several inputs. The other options
    are those of `import_onnx`; with "internal" every input of two or more axes takes
    channels-last data (PyTorch is channels-first throughout).
    """
    proto = _export(module, _shapes(input_shape))
    return import_onnx(
        proto,
        name=name or type(module).__name__,
        channels_last_conversion=channels_last_conversion,
        transpose_outputs=transpose_outputs,
        channels_first_inputs=True,
    )


def _wrapper_class() -> type:
    import torch

    class Wrapped(torch.nn.Module):
        """Hides a torch.export module from train()/eval(), which it refuses, for the exporter."""

        def __init__(self, inner: Any):
            super().__init__()
            object.__setattr__(self, "inner", inner)  # not a registered child: no train() calls

        def forward(self, *args: Any) -> Any:
            inner: Any = self.__dict__["inner"]
            return inner(*args)

    return Wrapped


class _Wrapped:
    @staticmethod
    def around(inner: Any) -> torch.nn.Module:
        for parameter in inner.parameters():
            parameter.requires_grad_(False)  # traced as constants by the exporter
        return _wrapper_class()(inner)


def load_pytorch_file(path: str | Path) -> torch.nn.Module:
    """Load a TorchScript archive or a `torch.export` archive as a callable module.

    A plain pickled module (`torch.save(model)`) is refused: unpickling runs arbitrary code.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(path, "not a TorchScript or torch.export archive (a legacy pickle?)")
    with zipfile.ZipFile(path) as archive:
        entries = archive.namelist()
    if any(e.endswith("serialized_exported_program.json") or "/models/" in e for e in entries):
        try:
            return _Wrapped.around(torch.export.load(str(path)).module())
        except Exception as error:
            raise ModelFileError(path, f"cannot load the torch.export archive ({error})") from error
    if any("/code/" in e for e in entries):
        try:
            return torch.jit.load(str(path), map_location="cpu")
        except Exception as error:
            raise ModelFileError(path, f"cannot load the TorchScript archive ({error})") from error
    raise ModelFileError(
        path,
        "a pickled PyTorch model or state dict is not accepted (unpickling runs arbitrary code); "
        "save it with torch.jit.script(model).save(path) or torch.export.save(...)",
    )


def load_pytorch(model: Any) -> Any:
    """A torch module from a module or a TorchScript / torch.export archive path."""
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        return load_pytorch_file(model)
    return model
