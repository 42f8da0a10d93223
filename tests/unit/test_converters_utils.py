"""`nnhls.converters.utils` and `nnhls.utils.config`: the hls4ml module paths scripts import,
checked against what Keras and PyTorch themselves compute."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import nnhls as hls4ml
from nnhls.config import ConfigError
from nnhls.converters.utils import (
    compute_padding_1d,
    compute_padding_1d_pytorch,
    compute_padding_2d,
    compute_padding_2d_pytorch,
    parse_data_format,
)

CASES_1D = [
    (n, s, k) for n, s, k in itertools.product((5, 8, 9, 16), (1, 2, 3), (1, 2, 3, 5)) if k <= n
]


@pytest.mark.parametrize(("in_size", "stride", "filt"), CASES_1D)
def test_keras_same_padding_matches_keras(in_size: int, stride: int, filt: int) -> None:
    """The pads we report reproduce a Keras 'same' convolution when applied explicitly."""
    import keras

    n_out, left, right = compute_padding_1d("same", in_size, stride, filt)
    x = (
        np.random.default_rng(in_size * 100 + stride * 10 + filt)
        .normal(size=(1, in_size, 1))
        .astype("float32")
    )
    layer = keras.layers.Conv1D(1, filt, strides=stride, padding="same", use_bias=False)
    y_keras = np.asarray(keras.ops.convert_to_numpy(layer(x)), dtype=np.float32)
    kernel = np.asarray(layer.get_weights()[0])[:, 0, 0]
    padded = np.pad(x[0, :, 0], (left, right))
    y_ours = np.array([padded[i * stride : i * stride + filt] @ kernel for i in range(n_out)])
    assert y_keras.shape[1] == n_out
    np.testing.assert_allclose(y_keras[0, :, 0], y_ours, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("in_size", "stride", "filt"), CASES_1D)
def test_valid_padding_matches_keras(in_size: int, stride: int, filt: int) -> None:
    import keras

    n_out, left, right = compute_padding_1d("valid", in_size, stride, filt)
    assert (left, right) == (0, 0)
    assert (
        keras.layers.Conv1D(1, filt, strides=stride, padding="valid").compute_output_shape(
            (1, in_size, 1)
        )[1]
        == n_out
    )


def test_2d_is_two_1d_axes() -> None:
    assert compute_padding_2d("same", 5, 7, 2, 2, 3, 3) == (3, 4, 1, 1, 1, 1)
    assert compute_padding_2d("SAME", 8, 9, 1, 3, 4, 2) == (
        *compute_padding_1d("same", 8, 1, 4)[:1],
        *compute_padding_1d("same", 9, 3, 2)[:1],
        *compute_padding_1d("same", 8, 1, 4)[1:],
        *compute_padding_1d("same", 9, 3, 2)[1:],
    )


@pytest.mark.parametrize(
    ("padding", "stride", "dilation"),
    [(0, 1, 1), (1, 1, 1), (2, 2, 1), (1, 2, 2), ("same", 1, 2), ("valid", 2, 1), ((1, 0), 1, 1)],
)
def test_pytorch_padding_matches_torch(padding: Any, stride: int, dilation: int) -> None:
    conv = torch.nn.Conv2d(1, 1, (3, 3), stride=stride, padding=padding, dilation=dilation)
    h, w = 11, 9
    out_shape = tuple(conv(torch.zeros(1, 1, h, w)).shape[2:])
    ours = compute_padding_2d_pytorch(padding, h, w, stride, stride, 3, 3, dilation, dilation)
    assert ours[:2] == out_shape
    if isinstance(padding, int):
        assert ours[2:] == (padding,) * 4
    conv1 = torch.nn.Conv1d(
        1,
        1,
        3,
        stride=stride,
        padding=padding if not isinstance(padding, tuple) else padding[0],
        dilation=dilation,
    )
    pad_1d = padding if not isinstance(padding, tuple) else padding[0]
    assert (
        compute_padding_1d_pytorch(pad_1d, h, stride, 3, dilation)[0]
        == conv1(torch.zeros(1, 1, h)).shape[2]
    )


def test_parse_data_format() -> None:
    assert parse_data_format((10, 3)) == (10, 3)
    assert parse_data_format((None, 10, 3)) == (10, 3)
    assert parse_data_format((3, 10), "channels_first") == (10, 3)
    assert parse_data_format((None, 3, 8, 6), "channels_first") == (8, 6, 3)
    assert parse_data_format((8, 6, 3)) == (8, 6, 3)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: parse_data_format((10, 3), "channels_middle"), "data_format 'channels_middle'"),
        (lambda: parse_data_format((10,)), "input_shape (10,)"),
        (lambda: compute_padding_1d("full", 10, 1, 3), "padding 'full'"),
        (lambda: compute_padding_1d("valid", 2, 1, 3), "does not fit"),
        (lambda: compute_padding_1d("same", 10, 0, 3), "stride must be a positive integer, got 0"),
        (lambda: compute_padding_1d_pytorch(-1, 10, 1, 3), "padding -1"),
        (lambda: compute_padding_2d_pytorch((1, 2, 3), 8, 8, 1, 1, 3, 3), "padding (1, 2, 3)"),
    ],
)
def test_bad_arguments_are_one_clear_error(call: Callable[[], object], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        call()
    assert fragment in str(info.value)


def test_utils_config_module_path() -> None:
    from nnhls.utils.config import (
        config_from_keras_model,
        config_from_onnx_model,
        config_from_pytorch_model,
    )

    assert config_from_keras_model is hls4ml.utils.config_from_keras_model
    assert config_from_onnx_model is hls4ml.utils.config_from_onnx_model
    assert config_from_pytorch_model is hls4ml.utils.config_from_pytorch_model
    assert callable(hls4ml.converters.utils.compute_padding_2d)
