"""PyTorch modules -> convert_from_pytorch_model -> g++ -> predict, compared with torch itself.

Covers the channels-first options: `full` takes the module's own (C, H, W) inputs, `internal`
takes channels-last inputs, and `transpose_outputs` gives channels-first spatial outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nnhls import converters, utils  # noqa: E402

pytestmark = pytest.mark.slow

WIDE = "fixed<32,12>"


class SmallCNN(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 6, 3)
        self.bn1 = torch.nn.BatchNorm2d(6)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(6, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 4 * 4, 5)

    def forward(self, x: Any) -> Any:
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = torch.relu(self.conv2(x))
        return torch.softmax(self.fc(torch.flatten(x, 1)), dim=1)


class ConvOnly(torch.nn.Module):
    """A spatial output, to check transpose_outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3)

    def forward(self, x: Any) -> Any:
        return torch.relu(self.conv(x))


def _eval(module: Any) -> Any:
    torch.manual_seed(3)
    for p in module.parameters():
        torch.nn.init.uniform_(p, -0.5, 0.5)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
    return module.eval()


def _convert(module: Any, shape: tuple[int, ...], out: Path, io_type: str = "io_parallel", **options: Any) -> Any:
    """Wide types everywhere and 2**16-entry tables, so the outputs follow torch to 1e-3."""
    config = utils.config_from_pytorch_model(module, shape, granularity="name", default_precision=WIDE, **options)
    for layer in config["LayerName"].values():
        if isinstance(layer.get("Precision"), dict):
            layer["Precision"] = {var: WIDE for var in layer["Precision"]}
        if "TableSize" in layer:
            layer["TableSize"] = 1 << 16
    hls_model = converters.convert_from_pytorch_model(
        module, shape, hls_config=config, output_dir=str(out), project_name="torch_net", io_type=io_type
    )
    hls_model.compile()
    return hls_model


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_cnn_full_conversion_takes_channels_first_inputs(tmp_path: Path, io_type: str) -> None:
    module = _eval(SmallCNN())
    x = np.random.default_rng(0).uniform(-1, 1, (32, 3, 10, 10)).astype(np.float32)
    expected = module(torch.from_numpy(x)).detach().numpy()
    hls_model = _convert(module, (3, 10, 10), tmp_path / "prj", io_type)
    predicted = np.asarray(hls_model.predict(x))
    np.testing.assert_allclose(predicted, expected, atol=1e-3)
    np.testing.assert_array_equal(predicted, np.asarray(hls_model.predict(x, emulator="numpy")))


def test_internal_conversion_takes_channels_last_inputs(tmp_path: Path) -> None:
    module = _eval(SmallCNN())
    x = np.random.default_rng(1).uniform(-1, 1, (16, 3, 10, 10)).astype(np.float32)
    expected = module(torch.from_numpy(x)).detach().numpy()
    hls_model = _convert(module, (3, 10, 10), tmp_path / "prj", channels_last_conversion="internal")
    predicted = np.asarray(hls_model.predict(x.transpose(0, 2, 3, 1)))
    np.testing.assert_allclose(predicted, expected, atol=1e-3)


@pytest.mark.parametrize(("transpose", "layout"), [(True, (0, 1, 2, 3)), (False, (0, 2, 3, 1))])
def test_transpose_outputs(tmp_path: Path, transpose: bool, layout: tuple[int, ...]) -> None:
    module = _eval(ConvOnly())
    x = np.random.default_rng(2).uniform(-1, 1, (8, 2, 6, 6)).astype(np.float32)
    expected = module(torch.from_numpy(x)).detach().numpy().transpose(layout)
    hls_model = _convert(module, (2, 6, 6), tmp_path / "prj", transpose_outputs=transpose)
    predicted = np.asarray(hls_model.predict(x))
    np.testing.assert_allclose(predicted.reshape(expected.shape), expected, atol=1e-3)
