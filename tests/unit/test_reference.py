"""The float reference interpreter, op by op, against independent formulations.

Convolutions, pooling, activations and upsampling are checked against torch.nn.functional (on
channels-first copies of the data); the rest against explicit loops or plain numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from xdsl.ir import SSAValue

from nnhls.dialects import nn
from nnhls.dialects.kinds import ActivationKind, PoolOp
from nnhls.frontends.common import ModelBuilder
from nnhls.interpreters.reference import run_reference
from nnhls.ops import nn_op_classes

RNG = np.random.default_rng(1234)


def _run_one(
    shapes: Sequence[Sequence[int]],
    make_op: Callable[[list[SSAValue]], nn.NNLayerOp],
    arrays: Sequence[np.ndarray],
) -> np.ndarray:
    """Build a one-layer model around `make_op` and run it on `arrays`."""
    builder = ModelBuilder("m", [(f"in{i}", s) for i, s in enumerate(shapes)])
    out = builder.add(make_op(builder.inputs))
    return run_reference(builder.finish([out]), list(arrays))[0]


def _rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(x, dtype=np.float64))


def _to_cf(x: np.ndarray) -> torch.Tensor:
    """Channels-last numpy -> channels-first torch."""
    return _t(np.moveaxis(x, -1, 1))


def _to_cl(t: torch.Tensor) -> np.ndarray:
    return np.moveaxis(t.numpy(), 1, -1)


def test_every_nn_op_has_an_evaluator() -> None:
    missing = [op.name for op in nn.NN_OPS if op not in nn_op_classes()]
    assert missing == []


# ----- dense and convolutions ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6,), (3, 6), (2, 3, 6)])
def test_dense_on_last_axis(shape: tuple[int, ...]) -> None:
    w, b, x = _rand(6, 4), _rand(4), _rand(5, *shape)
    y = _run_one([shape], lambda i: nn.DenseOp(i[0], w, b, "d"), [x])
    expected = np.einsum("...i,io->...o", x.astype(np.float64), w.astype(np.float64)) + b
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert y.dtype == np.float64


def test_dense_without_bias() -> None:
    w, x = _rand(3, 2), _rand(4, 3)
    y = _run_one([(3,)], lambda i: nn.DenseOp(i[0], w, None, "d"), [x])
    np.testing.assert_allclose(y, x.astype(np.float64) @ w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("strides", "dilations", "pads"),
    [((1,), (1,), (0, 0)), ((2,), (1,), (1, 2)), ((1,), (2,), (2, 0)), ((3,), (2,), (1, 1))],
)
def test_conv1d(strides: tuple[int], dilations: tuple[int], pads: tuple[int, int]) -> None:
    w, b, x = _rand(3, 4, 5), _rand(5), _rand(2, 11, 4)
    y = _run_one([(11, 4)], lambda i: nn.Conv1DOp(i[0], w, b, "c", strides, dilations, pads), [x])
    xt = F.pad(_to_cf(x), (pads[0], pads[1]))
    ref = F.conv1d(xt, _t(w.transpose(2, 1, 0)), _t(b), stride=strides, dilation=dilations)
    np.testing.assert_allclose(y, _to_cl(ref), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("strides", "dilations", "pads"),
    [
        ((1, 1), (1, 1), (0, 0, 0, 0)),
        ((2, 1), (1, 2), (1, 0, 2, 1)),
        ((1, 3), (2, 1), (0, 1, 1, 1)),
    ],
)
def test_conv2d(
    strides: tuple[int, int], dilations: tuple[int, int], pads: tuple[int, ...]
) -> None:
    w, b, x = _rand(3, 2, 3, 4), _rand(4), _rand(2, 7, 8, 3)
    y = _run_one([(7, 8, 3)], lambda i: nn.Conv2DOp(i[0], w, b, "c", strides, dilations, pads), [x])
    xt = F.pad(_to_cf(x), (pads[2], pads[3], pads[0], pads[1]))
    ref = F.conv2d(xt, _t(w.transpose(3, 2, 0, 1)), _t(b), stride=strides, dilation=dilations)
    np.testing.assert_allclose(y, _to_cl(ref), rtol=1e-5, atol=1e-6)


def test_conv2d_matches_explicit_loops() -> None:
    w, x = _rand(2, 2, 2, 3), _rand(1, 4, 5, 2)
    y = _run_one(
        [(4, 5, 2)], lambda i: nn.Conv2DOp(i[0], w, None, "c", (1, 2), (1, 1), (0, 0, 0, 0)), [x]
    )
    expected = np.zeros((1, 3, 2, 3))
    for oh, ow, o in product(range(3), range(2), range(3)):
        for i, j, c in product(range(2), range(2), range(2)):
            expected[0, oh, ow, o] += x[0, oh + i, 2 * ow + j, c] * w[i, j, c, o]
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mult", [1, 2])
def test_depthwise_conv2d_keras_channel_order(mult: int) -> None:
    channels = 3
    w, b, x = _rand(3, 3, channels, mult), _rand(channels * mult), _rand(2, 6, 5, channels)
    y = _run_one(
        [(6, 5, channels)],
        lambda i: nn.DepthwiseConv2DOp(i[0], w, b, "dw", (1, 2), (1, 1), (1, 1, 1, 0)),
        [x],
    )
    # torch groups=C: output channel c * mult + m reads input channel c.
    wt = w.transpose(2, 3, 0, 1).reshape(channels * mult, 1, 3, 3)
    xt = F.pad(_to_cf(x), (1, 0, 1, 1))
    ref = F.conv2d(xt, _t(wt), _t(b), stride=(1, 2), groups=channels)
    np.testing.assert_allclose(y, _to_cl(ref), rtol=1e-5, atol=1e-6)


def test_depthwise_conv1d() -> None:
    w, x = _rand(3, 2, 2), _rand(2, 9, 2)
    y = _run_one(
        [(9, 2)], lambda i: nn.DepthwiseConv1DOp(i[0], w, None, "dw", (2,), (2,), (0, 1)), [x]
    )
    wt = w.transpose(1, 2, 0).reshape(4, 1, 3)
    ref = F.conv1d(F.pad(_to_cf(x), (0, 1)), _t(wt), stride=2, dilation=2, groups=2)
    np.testing.assert_allclose(y, _to_cl(ref), rtol=1e-5, atol=1e-6)


# ----- pooling and normalisation ---------------------------------------------------------------------------


def test_max_pool2d_with_padding() -> None:
    x = _rand(2, 6, 7, 3)
    y = _run_one(
        [(6, 7, 3)],
        lambda i: nn.PoolingOp(i[0], PoolOp.MAX, "p", (3, 2), (2, 2), (1, 1, 1, 1)),
        [x],
    )
    ref = F.max_pool2d(_to_cf(x), (3, 2), (2, 2), padding=(1, 1))
    np.testing.assert_allclose(y, _to_cl(ref), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("count_pad", [True, False])
def test_average_pool2d_count_pad(count_pad: bool) -> None:
    x = _rand(2, 5, 6, 2)
    y = _run_one(
        [(5, 6, 2)],
        lambda i: nn.PoolingOp(i[0], PoolOp.AVERAGE, "p", (3, 3), (2, 2), (1, 1, 1, 1), count_pad),
        [x],
    )
    ref = F.avg_pool2d(_to_cf(x), 3, 2, padding=1, count_include_pad=count_pad)
    np.testing.assert_allclose(y, _to_cl(ref), rtol=1e-5, atol=1e-6)


def test_average_pool1d_asymmetric_pads_excludes_padding() -> None:
    x = _rand(1, 5, 2)
    y = _run_one(
        [(5, 2)], lambda i: nn.PoolingOp(i[0], PoolOp.AVERAGE, "p", (2,), (2,), (0, 1)), [x]
    )
    expected = np.stack([x[0, 0:2].mean(0), x[0, 2:4].mean(0), x[0, 4:5].mean(0)])[None]
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_max_pool1d() -> None:
    x = _rand(3, 8, 4)
    y = _run_one([(8, 4)], lambda i: nn.PoolingOp(i[0], PoolOp.MAX, "p", (2,), (2,), (0, 0)), [x])
    np.testing.assert_allclose(y, _to_cl(F.max_pool1d(_to_cf(x), 2)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(7, 3), (4, 5, 3)])
@pytest.mark.parametrize("op", [PoolOp.MAX, PoolOp.AVERAGE])
def test_global_pool(shape: tuple[int, ...], op: PoolOp) -> None:
    x = _rand(2, *shape)
    y = _run_one([shape], lambda i: nn.GlobalPoolOp(i[0], op, "g"), [x])
    flat = x.reshape(2, -1, 3).astype(np.float64)
    np.testing.assert_allclose(
        y, flat.max(1) if op == PoolOp.MAX else flat.mean(1), rtol=1e-5, atol=1e-6
    )


def test_batchnorm() -> None:
    scale, bias, x = _rand(3), _rand(3), _rand(4, 2, 3)
    y = _run_one([(2, 3)], lambda i: nn.BatchNormOp(i[0], scale, bias, "bn"), [x])
    np.testing.assert_allclose(y, x.astype(np.float64) * scale + bias, rtol=1e-5, atol=1e-6)


# ----- activations -------------------------------------------------------------------------------------------

_ACTIVATIONS: list[
    tuple[ActivationKind, dict[str, float], Callable[[torch.Tensor], torch.Tensor]]
] = [
    (ActivationKind.LINEAR, {}, lambda t: t),
    (ActivationKind.RELU, {}, F.relu),
    (ActivationKind.RELU6, {}, F.relu6),
    (ActivationKind.LEAKY_RELU, {"alpha": 0.1}, lambda t: F.leaky_relu(t, 0.1)),
    (ActivationKind.THRESHOLDED_RELU, {"alpha": 0.5}, lambda t: F.threshold(t, 0.5, 0.0)),
    (ActivationKind.ELU, {"alpha": 0.7}, lambda t: F.elu(t, 0.7)),
    (ActivationKind.ELU, {}, F.elu),
    (ActivationKind.SELU, {}, F.selu),
    (ActivationKind.SIGMOID, {}, torch.sigmoid),
    (ActivationKind.HARD_SIGMOID, {}, lambda t: F.relu6(t + 3) / 6),
    (
        ActivationKind.HARD_SIGMOID,
        {"alpha": 0.2, "beta": 0.5},
        lambda t: torch.clamp(0.2 * t + 0.5, 0, 1),
    ),
    (ActivationKind.TANH, {}, torch.tanh),
    (ActivationKind.HARD_TANH, {}, F.hardtanh),
    (ActivationKind.SOFTPLUS, {}, F.softplus),
    (ActivationKind.SOFTSIGN, {}, F.softsign),
    (ActivationKind.SWISH, {}, F.silu),
    (ActivationKind.GELU, {}, F.gelu),
    (ActivationKind.CLIP, {"alpha": -0.5, "beta": 1.5}, lambda t: torch.clamp(t, -0.5, 1.5)),
]


@pytest.mark.parametrize(
    ("kind", "params", "ref"), _ACTIVATIONS, ids=[f"{k.value}{p}" for k, p, _ in _ACTIVATIONS]
)
def test_activation(
    kind: ActivationKind, params: dict[str, float], ref: Callable[[torch.Tensor], torch.Tensor]
) -> None:
    x = 4 * _rand(3, 5, 4)
    alpha, beta = params.get("alpha"), params.get("beta")
    y = _run_one([(5, 4)], lambda i: nn.ActivationOp(i[0], kind, "a", alpha, beta), [x])
    np.testing.assert_allclose(y, ref(_t(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_activation_kinds_all_covered() -> None:
    covered = {k for k, _, _ in _ACTIVATIONS} | {ActivationKind.PRELU}
    assert covered == set(ActivationKind)


def test_prelu_per_channel() -> None:
    slope, x = _rand(4), _rand(3, 2, 4)
    y = _run_one(
        [(2, 4)], lambda i: nn.ActivationOp(i[0], ActivationKind.PRELU, "a", param=slope), [x]
    )
    ref = F.prelu(_to_cf(x), _t(slope))
    np.testing.assert_allclose(y, _to_cl(ref), rtol=1e-5, atol=1e-6)


def test_sigmoid_does_not_overflow() -> None:
    x = np.array([[-1000.0, 1000.0]])
    y = _run_one([(2,)], lambda i: nn.ActivationOp(i[0], ActivationKind.SIGMOID, "a"), [x])
    np.testing.assert_allclose(y, [[0.0, 1.0]])


def test_softmax_last_axis() -> None:
    x = 10 * _rand(3, 2, 5)
    y = _run_one([(2, 5)], lambda i: nn.SoftmaxOp(i[0], "s"), [x])
    np.testing.assert_allclose(y, torch.softmax(_t(x), -1).numpy(), rtol=1e-5, atol=1e-6)


# ----- merges --------------------------------------------------------------------------------------------------

_MERGES: list[tuple[type[nn.ElementwiseMergeOp], int, Callable[[list[np.ndarray]], np.ndarray]]] = [
    (nn.AddOp, 3, lambda a: a[0] + a[1] + a[2]),
    (nn.SubOp, 2, lambda a: a[0] - a[1]),
    (nn.MulOp, 3, lambda a: a[0] * a[1] * a[2]),
    (nn.AverageOp, 3, lambda a: (a[0] + a[1] + a[2]) / 3),
    (nn.MaximumOp, 2, lambda a: np.maximum(a[0], a[1])),
    (nn.MinimumOp, 3, lambda a: np.minimum(np.minimum(a[0], a[1]), a[2])),
]


@pytest.mark.parametrize(("cls", "count", "ref"), _MERGES, ids=[c.name for c, _, _ in _MERGES])
def test_merge(
    cls: type[nn.ElementwiseMergeOp], count: int, ref: Callable[[list[np.ndarray]], np.ndarray]
) -> None:
    arrays = [_rand(4, 2, 3).astype(np.float64) for _ in range(count)]
    y = _run_one([(2, 3)] * count, lambda i: cls(i, "m"), arrays)
    np.testing.assert_allclose(y, ref(arrays), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axis", [0, 1])
def test_concat(axis: int) -> None:
    a, b = _rand(2, 3, 4), _rand(2, 3, 4)
    y = _run_one([(3, 4), (3, 4)], lambda i: nn.ConcatOp(i, axis, "c"), [a, b])
    np.testing.assert_allclose(y, np.concatenate([a, b], axis=axis + 1), rtol=1e-5, atol=1e-6)


def test_dot() -> None:
    a, b = _rand(3, 5), _rand(3, 5)
    y = _run_one([(5,), (5,)], lambda i: nn.DotOp(i[0], i[1], "d"), [a, b])
    expected = np.array(
        [[sum(float(a[n, k]) * float(b[n, k]) for k in range(5))] for n in range(3)]
    )
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


# ----- shape ops --------------------------------------------------------------------------------------------------


def test_reshape_flatten_transpose() -> None:
    x = _rand(2, 3, 4, 5)
    y = _run_one([(3, 4, 5)], lambda i: nn.ReshapeOp(i[0], (12, 5), "r"), [x])
    np.testing.assert_array_equal(y, x.reshape(2, 12, 5))
    y = _run_one([(3, 4, 5)], lambda i: nn.FlattenOp(i[0], "f"), [x])
    np.testing.assert_array_equal(y, x.reshape(2, 60))
    y = _run_one([(3, 4, 5)], lambda i: nn.TransposeOp(i[0], (2, 0, 1), "t"), [x])
    np.testing.assert_array_equal(y, x.transpose(0, 3, 1, 2))


def test_pad_and_crop() -> None:
    x = _rand(2, 3, 4, 2)
    y = _run_one([(3, 4, 2)], lambda i: nn.PadOp(i[0], (1, 0, 2, 1), "p"), [x])
    expected = np.zeros((2, 4, 7, 2))
    expected[:, 1:, 2:6] = x
    np.testing.assert_array_equal(y, expected)
    y = _run_one([(3, 4, 2)], lambda i: nn.CropOp(i[0], (1, 0, 1, 2), "c"), [x])
    np.testing.assert_array_equal(y, x[:, 1:, 1:2])


@pytest.mark.parametrize(("shape", "factors"), [((3, 2), (2,)), ((2, 3, 2), (2, 3))])
def test_upsample_nearest(shape: tuple[int, ...], factors: tuple[int, ...]) -> None:
    x = _rand(2, *shape)
    y = _run_one([shape], lambda i: nn.UpsampleOp(i[0], factors, "u"), [x])
    ref = F.interpolate(_to_cf(x), scale_factor=factors, mode="nearest")
    np.testing.assert_array_equal(y, _to_cl(ref))


def test_constant_dropout_identity() -> None:
    value, x = _rand(2, 3), _rand(4, 2, 3)
    builder = ModelBuilder("m", [("x", (2, 3))])
    c = builder.add(nn.ConstantOp(value, "c"))
    d = builder.add(nn.DropoutOp(builder.inputs[0], "drop"))
    e = builder.add(nn.IdentityOp(d, "id"))
    s = builder.add(nn.AddOp([e, c], "add"))
    out = run_reference(builder.finish([s, c]), x)
    np.testing.assert_allclose(out[0], x + value, rtol=1e-5, atol=1e-6)
    assert out[1].shape == (4, 2, 3)


def test_multiple_outputs_and_input_checks() -> None:
    builder = ModelBuilder("m", [("a", (3,)), ("b", (3,))])
    s = builder.add(nn.AddOp(builder.inputs, "s"))
    module = builder.finish([s, builder.inputs[1]])
    a, b = _rand(2, 3), _rand(2, 3)
    out = run_reference(module, [a, b])
    assert len(out) == 2
    np.testing.assert_array_equal(out[1], b)
    with pytest.raises(ValueError, match="2 inputs"):
        run_reference(module, a)
    with pytest.raises(ValueError, match="must have shape"):
        run_reference(module, [a, _rand(2, 4)])


def test_batch_is_vectorised_not_looped() -> None:
    w = _rand(3, 3, 2, 4)
    x = _rand(64, 10, 10, 2)
    y = _run_one(
        [(10, 10, 2)], lambda i: nn.Conv2DOp(i[0], w, None, "c", (1, 1), (1, 1), (1, 1, 1, 1)), [x]
    )
    single = _run_one(
        [(10, 10, 2)],
        lambda i: nn.Conv2DOp(i[0], w, None, "c", (1, 1), (1, 1), (1, 1, 1, 1)),
        [x[5:6]],
    )
    np.testing.assert_allclose(y[5:6], single, rtol=1e-12)
