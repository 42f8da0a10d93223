"""PyTorch front end: real modules exported in memory, compared with torch's own outputs."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn as tnn

from nnhls.dialects import nn
from nnhls.dialects.nn import model_function
from nnhls.frontends.common import FrontendError, ModelFileError
from nnhls.frontends.pytorch import _shapes, import_pytorch, load_pytorch_file
from nnhls.interpreters.reference import run_reference

warnings.filterwarnings("ignore", category=DeprecationWarning)
torch.manual_seed(0)


def _bn(module: tnn.Module) -> tnn.Module:
    """Give BatchNorm layers non-trivial running statistics."""
    for m in module.modules():
        if isinstance(m, tnn.BatchNorm1d | tnn.BatchNorm2d):
            assert m.running_mean is not None and m.running_var is not None
            with torch.no_grad():
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5)
    return module.eval()


class Lambda(tnn.Module):
    def __init__(self, fn: Callable[..., torch.Tensor]):
        super().__init__()
        self.fn = fn

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.fn(*xs)


class Branches(tnn.Module):
    """Add, cat and mul of two conv branches, then upsample, pad and pool."""

    def __init__(self) -> None:
        super().__init__()
        self.a = tnn.Conv2d(3, 4, 3, padding=1)
        self.b = tnn.Conv2d(3, 4, 1)
        self.up = tnn.Upsample(scale_factor=2, mode="nearest")
        self.pad = tnn.ConstantPad2d((1, 0, 2, 1), 0.0)
        self.pool = tnn.AvgPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.a(x), self.b(x)
        y = torch.cat([a + b, a * b], dim=1)
        return self.pool(self.pad(self.up(y)))


MODELS: dict[str, tuple[Callable[[], tnn.Module], tuple[int, ...]]] = {
    "mlp": (
        lambda: tnn.Sequential(tnn.Linear(16, 32), tnn.ReLU(), tnn.Linear(32, 5), tnn.Softmax(-1)),
        (16,),
    ),
    "mlp_bn1d": (
        lambda: tnn.Sequential(
            tnn.Linear(8, 12), tnn.BatchNorm1d(12), tnn.ELU(), tnn.Linear(12, 3)
        ),
        (8,),
    ),
    "conv1d": (
        lambda: tnn.Sequential(
            tnn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=1),
            tnn.BatchNorm1d(4),
            tnn.LeakyReLU(0.1),
            tnn.Conv1d(4, 4, 3, groups=4, dilation=2, padding=2),
            tnn.MaxPool1d(2),
            tnn.Flatten(),
            tnn.Linear(24, 3),
        ),
        (2, 24),
    ),
    "conv2d": (
        lambda: tnn.Sequential(
            tnn.Conv2d(3, 6, 3, stride=2, padding=1),
            tnn.BatchNorm2d(6),
            tnn.ReLU6(),
            tnn.Conv2d(6, 6, 3, groups=6, padding=1),
            tnn.Hardswish(),
            tnn.MaxPool2d(2),
            tnn.Flatten(),
            tnn.Linear(6 * 2 * 2, 4),
            tnn.Sigmoid(),
        ),
        (3, 8, 8),
    ),
    "global_pool": (
        lambda: tnn.Sequential(
            tnn.Conv2d(2, 5, 3),
            tnn.PReLU(5),
            tnn.AdaptiveAvgPool2d(1),
            tnn.Flatten(),
            tnn.Linear(5, 2),
        ),
        (2, 6, 6),
    ),
    "activations": (
        lambda: tnn.Sequential(
            tnn.Linear(6, 6),
            tnn.Tanh(),
            tnn.Linear(6, 6),
            tnn.SELU(),
            tnn.Linear(6, 6),
            tnn.Softplus(),
            tnn.Linear(6, 6),
            tnn.Hardsigmoid(),
            tnn.Linear(6, 6),
            tnn.Hardtanh(-0.5, 0.8),
            tnn.Dropout(0.3),
        ),
        (6,),
    ),
    "branches": (Branches, (3, 5, 5)),
    "view": (
        lambda: tnn.Sequential(tnn.Conv2d(2, 3, 2), Lambda(lambda x: x.view(x.size(0), -1))),
        (2, 4, 4),
    ),
}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_pytorch_module_matches_torch(model: str) -> None:
    factory, shape = MODELS[model]
    module = _bn(factory())
    imported = import_pytorch(module, shape)
    x = torch.randn(4, *shape)
    with torch.no_grad():
        expected = module(x).numpy()
    (ours,) = run_reference(imported, x.numpy())
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_internal_conversion_and_name() -> None:
    module = _bn(MODELS["conv2d"][0]())
    imported = import_pytorch(module, (3, 8, 8), name="net", channels_last_conversion="internal")
    function = model_function(imported)
    assert function.sym_name.data == "net"
    assert nn.shape_of(function.body.block.args[0]) == (8, 8, 3)
    assert not any(isinstance(op, nn.TransposeOp) for op in function.body.block.ops)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        expected = module(x).numpy()
    (ours,) = run_reference(imported, x.permute(0, 2, 3, 1).numpy())
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_two_inputs() -> None:
    module = Lambda(lambda a, b: torch.relu(a) - torch.maximum(a, b))
    imported = import_pytorch(module, [(4,), (4,)])
    a, b = torch.randn(3, 4), torch.randn(3, 4)
    (ours,) = run_reference(imported, [a.numpy(), b.numpy()])
    np.testing.assert_allclose(ours, module(a, b).numpy(), rtol=1e-5, atol=1e-6)


def _small() -> tnn.Module:
    return tnn.Sequential(tnn.Linear(4, 3), tnn.ReLU()).eval()


def test_load_torchscript_and_export_archives(tmp_path: Path) -> None:
    module = _small()
    x = torch.randn(2, 4)
    expected = module(x).detach().numpy()
    script = tmp_path / "model.pt"
    torch.jit.script(module).save(str(script))
    exported = tmp_path / "model.pt2"
    torch.export.save(torch.export.export(module, (torch.zeros(1, 4),)), str(exported))
    for path in (script, exported):
        loaded = load_pytorch_file(path)
        (ours,) = run_reference(import_pytorch(loaded, (4,)), x.numpy())
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_pickled_module_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.pt"
    torch.save(_small(), str(path))
    with pytest.raises(ModelFileError, match="unpickling runs arbitrary code"):
        load_pytorch_file(path)
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ModelFileError, match="legacy pickle"):
        load_pytorch_file(raw)
    with pytest.raises(ModelFileError, match="no such file"):
        load_pytorch_file(tmp_path / "absent.pt")


def test_input_shape_spellings() -> None:
    """Per-sample shapes; a leading None batch axis (as hls4ml users write it) and hls4ml's string
    form are accepted; anything else is one clear error."""
    assert _shapes((16,)) == [(16,)]
    assert _shapes((None, 16)) == [(16,)]
    assert _shapes("(None, 3, 32, 32)") == [(3, 32, 32)]
    assert _shapes([(None, 4), (5,)]) == [(4,), (5,)]
    for bad in [(None, None), (0, 4), (4.5,), ("a",)]:
        with pytest.raises(FrontendError, match="input_shape"):
            _shapes(bad)
