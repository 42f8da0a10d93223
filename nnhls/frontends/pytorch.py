"""PyTorch front end: export the module to ONNX in memory, then import that graph.

torch is imported lazily so the package works without it. The TorchScript exporter
(`dynamo=False`) is always used: it handles TorchScript modules, which the dynamo exporter refuses,
and the graphs it writes do not change when `onnxscript` happens to be installed (qonnx pulls it in).
"""

from __future__ import annotations

import io
import json
import re
import threading
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import onnx
from xdsl.dialects.builtin import ModuleOp

from nnhls.frontends.common import FrontendError, ModelFileError
from nnhls.frontends.onnx import import_onnx

if TYPE_CHECKING:
    import torch

ONNX_OPSET = 17


def _dims(text: str) -> list[int | None]:
    """'(None, 16)' -> [None, 16] (hls4ml writes InputShape as such a string)."""
    return [None if d.strip().lower() == "none" else int(d) for d in re.findall(r"[^\s,()\[\]]+", text)]


def _shapes(input_shape: Any) -> list[tuple[int, ...]]:
    """One shape or a list of shapes per sample; a leading None (the batch axis, as hls4ml users
    sometimes write it) is dropped; anything but positive integers is an error naming the shape."""
    try:
        raw: list[Any] = _dims(input_shape) if isinstance(input_shape, str) else list(input_shape)
        flat = all(d is None or isinstance(d, int) for d in raw)
        shapes: list[list[Any]] = (
            [raw] if flat else [_dims(s) if isinstance(s, str) else list(s) for s in raw]
        )
    except (TypeError, ValueError):
        raise FrontendError(f"input_shape must be a tuple of sizes, got {input_shape!r}") from None
    out: list[tuple[int, ...]] = []
    for shape in shapes:
        dims = shape[1:] if shape and shape[0] is None else shape
        sizes = [d for d in dims if isinstance(d, int) and not isinstance(d, bool) and d >= 1]
        if len(sizes) != len(dims):
            raise FrontendError(
                f"input_shape {tuple(shape)}: the per-sample sizes (batch axis excluded, or given "
                "as a leading None) must be positive integers"
            )
        out.append(tuple(sizes))
    return out


def _example_shape(module: torch.nn.Module, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The export example of one input: a batch of one, on axis 1 for a (time, features) input of
    a module whose recurrent layers are all time-major (batch_first=False); nnhls still takes and
    returns batch-first data."""
    import torch

    recurrent = [m for m in module.modules() if isinstance(m, torch.nn.RNNBase)]
    if len(shape) == 2 and recurrent and not any(m.batch_first for m in recurrent):
        return (shape[0], 1, shape[1])
    return (1, *shape)


def _check_recurrent(module: torch.nn.Module) -> None:
    """Options of nn.RNN / nn.LSTM / nn.GRU nnhls does not compute, refused before the export
    (whose own failure would be a page of TorchScript)."""
    import torch

    for name, m in module.named_modules():
        if isinstance(m, torch.nn.LSTM) and m.proj_size > 0:
            raise FrontendError(f"module '{name or type(m).__name__}' (LSTM): option proj_size={m.proj_size} (projected states) is not supported")


def _export(module: torch.nn.Module, shapes: list[tuple[int, ...]]) -> onnx.ModelProto:
    import torch

    _check_recurrent(module)

    # A module that embeds takes integer indices (nn.Embedding refuses float inputs).
    embeds = any(isinstance(m, torch.nn.Embedding) for m in module.modules())
    dtype = torch.long if embeds else torch.float32
    examples = tuple(torch.zeros(*_example_shape(module, shape), dtype=dtype) for shape in shapes)
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


class UnsafeModelFileError(ModelFileError):
    """A model file that could only be read by running code from it (a pickle)."""


_LOAD_LOCK = threading.Lock()


class _Refused(Exception):
    pass


class _NoPickle:
    """Stands in for the `pickle` module inside torch.export's reader while we load."""

    def __getattr__(self, name: str) -> Any:
        raise _Refused(f"pickle.{name}")


@contextmanager
def _pickles_refused() -> Iterator[None]:
    """While torch reads an archive, nothing in it can run code.

    torch.export falls back to unrestricted unpickling for some entries (`use_pickle` weights
    and constants, opaque objects, legacy `.pt` members, sample inputs when the safe load fails).
    Here `torch.load` always runs in `weights_only` mode (tensors and plain containers only, no
    callables), and the other unpicklers (`pickle.loads`, TorchScript's object unpickler) refuse.
    """
    import torch
    from torch.export.pt2_archive import _package

    real_load = torch.load
    real_obj_load = torch._C._pickle_load_obj  # pyright: ignore[reportAttributeAccessIssue]

    def weights_only_load(f: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["weights_only"] = True
        kwargs.pop("pickle_module", None)
        return real_load(f, *args, **kwargs)

    def refuse(*_: Any, **__: Any) -> Any:
        raise _Refused("a pickled TorchScript object")

    with _LOAD_LOCK:
        real_pickle = _package.pickle  # pyright: ignore[reportPrivateImportUsage]
        torch.load = weights_only_load  # pyright: ignore[reportAttributeAccessIssue]
        torch._C._pickle_load_obj = refuse  # pyright: ignore[reportAttributeAccessIssue]
        _package.pickle = _NoPickle()  # pyright: ignore[reportAttributeAccessIssue, reportPrivateImportUsage]
        try:
            yield
        finally:
            torch.load = real_load  # pyright: ignore[reportAttributeAccessIssue]
            torch._C._pickle_load_obj = real_obj_load  # pyright: ignore[reportAttributeAccessIssue]
            _package.pickle = real_pickle  # pyright: ignore[reportAttributeAccessIssue, reportPrivateImportUsage]


def _pickled_members(archive: zipfile.ZipFile) -> list[str]:
    """Members of a torch.export archive that torch would unpickle (by its own configs)."""
    found: list[str] = []
    for entry in archive.namelist():
        if entry.endswith(("_weights_config.json", "_constants_config.json")):
            try:
                config = json.loads(archive.read(entry)).get("config", {})
            except (ValueError, AttributeError):
                found.append(entry)
                continue
            for fqn, meta in config.items() if isinstance(config, dict) else []:
                path = str(meta.get("path_name", "")) if isinstance(meta, dict) else ""
                if not isinstance(meta, dict) or meta.get("use_pickle") or path.startswith(("custom_obj", "opaque_obj")):
                    found.append(f"{entry}: {fqn}")
        elif entry.endswith(("serialized_state_dict.pt", "serialized_constants.pt")) or ((
            "/data/weights/" in entry or "/data/constants/" in entry
        ) and entry.endswith(".pt")):
            found.append(entry)
    return found


def load_pytorch_file(path: str | Path) -> torch.nn.Module:
    """Load a TorchScript archive or a `torch.export` archive as a callable module, without
    running code from the file.

    A plain pickled module (`torch.save(model)`) is refused, and so is a torch.export archive
    whose weights or constants are pickled; the rest is read with every unpickler either
    restricted to tensors (`weights_only`) or refused (`_pickles_refused`). TorchScript archives
    are read by TorchScript's own unpickler, which rebuilds tensors and TorchScript types only.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such file")
    if not zipfile.is_zipfile(path):
        raise UnsafeModelFileError(
            path,
            "not a TorchScript or torch.export archive: a legacy pickle is not loaded (unpickling runs "
            "arbitrary code); save it with torch.jit.script(model).save(path) or torch.export.save(...)",
        )
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.namelist()
            pickled = _pickled_members(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ModelFileError(path, f"unreadable archive ({error})") from None
    if any(e.endswith("serialized_exported_program.json") or "/models/" in e for e in entries):
        if pickled:
            raise UnsafeModelFileError(
                path,
                f"the torch.export archive holds pickled data ({pickled[0]}), which nnhls does not load "
                "(unpickling runs arbitrary code); save plain tensor weights with torch.export.save()",
            )
        try:
            with _pickles_refused(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                program = torch.export.load(str(path))
            return _Wrapped.around(program.module())
        except _Refused as error:
            raise UnsafeModelFileError(path, f"the torch.export archive needs {error} to load, which nnhls refuses") from None
        except Exception as error:
            if "weights only load failed" in str(error).lower():
                raise UnsafeModelFileError(
                    path, "the torch.export archive holds pickled data other than plain tensors, which nnhls does not load"
                ) from None
            raise ModelFileError(path, f"cannot load the torch.export archive ({_first_line(error)})") from None
    if any("/code/" in e for e in entries):
        try:
            return torch.jit.load(str(path), map_location="cpu")
        except Exception as error:
            raise ModelFileError(path, f"cannot load the TorchScript archive ({_first_line(error)})") from None
    raise UnsafeModelFileError(
        path,
        "a pickled PyTorch model or state dict is not accepted (unpickling runs arbitrary code); "
        "save it with torch.jit.script(model).save(path) or torch.export.save(...)",
    )


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(error).__name__


def load_pytorch(model: Any) -> Any:
    """A torch module from a module or a TorchScript / torch.export archive path."""
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        return load_pytorch_file(model)
    return model
