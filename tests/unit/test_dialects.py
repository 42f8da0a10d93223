"""Python-side API of the nn and hls dialects: builders, weights, types, verifiers, context."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.parser import Parser
from xdsl.utils.exceptions import VerifyException

from nnhls.compiler.context import make_context
from nnhls.dialects import hls, nn
from nnhls.dialects.fixed import FixedPrecision, Overflow, Quant, parse_precision
from nnhls.dialects.kinds import ActivationKind, PoolOp
from nnhls.dialects.nn import model_function
from nnhls.dialects.types import FixedType, IntType, StreamType, UFixedType, fixed_type
from nnhls.frontends.common import ModelBuilder, UnsupportedLayerError


def small_cnn() -> ModelBuilder:
    rng = np.random.default_rng(0)
    b = ModelBuilder("cnn", [("input_1", [8, 8, 3])])
    x = b.inputs[0]
    c = b.add(nn.Conv2DOp(x, rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4), "conv1", [1, 1], [1, 1], [1, 1, 1, 1]))
    r = b.add(nn.ActivationOp(c, ActivationKind.RELU, "conv1_relu"))
    p = b.add(nn.PoolingOp(r, PoolOp.MAX, "pool1", [2, 2], [2, 2], [0, 0, 0, 0]))
    f = b.add(nn.FlattenOp(p, "flatten"))
    d = b.add(nn.DenseOp(f, rng.normal(size=(64, 5)), rng.normal(size=5), "fc"))
    b.add(nn.SoftmaxOp(d, "softmax"))
    return b


def test_builder_infers_shapes_and_names_values() -> None:
    b = small_cnn()
    softmax = b.block.last_op
    assert softmax is not None
    module = b.finish([softmax.results[0]])
    func = model_function(module)
    assert func.sym_name.data == "cnn"
    ops = [op for op in func.body.block.ops if isinstance(op, nn.NNLayerOp)]
    assert [op.layer_name for op in ops] == ["input_1", "conv1", "conv1_relu", "pool1", "flatten", "fc", "softmax"]
    assert nn.shape_of(ops[1].results[0]) == (8, 8, 4)
    assert nn.shape_of(ops[3].results[0]) == (4, 4, 4)
    assert ops[5].results[0].name_hint == "fc"


def test_weights_round_trip_through_bytes_without_copying_values() -> None:
    w = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    attr = nn.dense_attr(w)
    assert attr.get_shape() == (3, 4)
    np.testing.assert_array_equal(nn.to_numpy(attr), w)
    m = np.array([[-3, 5], [7, -128]], dtype=np.int64)
    np.testing.assert_array_equal(hls.mantissas(hls.mantissa_attr(m)), m)


def test_printed_model_parses_back_identically() -> None:
    b = small_cnn()
    last = b.block.last_op
    assert last is not None
    text = str(b.finish([last.results[0]]))
    parsed = Parser(make_context(), text).parse_module()
    parsed.verify()
    assert str(parsed) == text


def test_dense_with_mismatched_weight_is_rejected_naming_the_layer() -> None:
    b = ModelBuilder("m", [("in", [4])])
    with pytest.raises(VerifyException, match=r"nn.dense 'fc9': weight shape \(3, 2\) does not match input features 4"):
        op = nn.DenseOp(b.inputs[0], np.zeros((3, 2)), None, "fc9")
        op.verify()


def test_precision_properties_accept_types_and_auto_only() -> None:
    b = ModelBuilder("m", [("in", [4])])
    op = nn.ActivationOp(b.inputs[0], ActivationKind.TANH, "t")
    from xdsl.dialects.builtin import DictionaryAttr, StringAttr

    op.precision = DictionaryAttr({"result": FixedType(8, 1), "table": StringAttr("auto")})
    op.verify()
    assert op.get_precision("result") == FixedType(8, 1)
    assert op.get_precision("table") == nn.AUTO
    assert op.get_precision("param") is None
    op.precision = DictionaryAttr({"accum": FixedType(8, 1)})
    with pytest.raises(VerifyException, match="unknown precision variable 'accum'"):
        op.verify()


@pytest.mark.parametrize(
    "text",
    ["fixed<16,6>", "ufixed<8,3>", "int<8>", "uint<1>", "fixed<18,8,RND,SAT>", "ufixed<12,-2,RND_CONV,WRAP,3>"],
)
def test_fixed_type_spells_every_precision(text: str) -> None:
    p = parse_precision(text)
    ty = fixed_type(p)
    assert ty.precision == p
    assert ty.cpp() == p.cpp()


def test_fixed_type_classes_and_cpp_spelling() -> None:
    assert fixed_type(FixedPrecision(16, 6)) == FixedType(16, 6)
    assert isinstance(fixed_type(FixedPrecision(8, 3, signed=False)), UFixedType)
    assert fixed_type(FixedPrecision.integer_type(8)) == IntType(8)
    assert FixedType(18, 8, Quant.RND, Overflow.SAT).cpp() == "ap_fixed<18,8,AP_RND,AP_SAT,0>"
    stream = StreamType([8, 8, 3], FixedType(16, 6), 64)
    assert (stream.pack, stream.n_elements) == (3, 64)


def test_context_loads_our_hls_dialect_not_xdsls() -> None:
    ctx = make_context()
    dialect = ctx.get_optional_dialect("hls")
    assert dialect is not None
    assert "hls.dense" in [op.name for op in dialect.operations]


def test_unsupported_layer_error_names_layer_type_and_supported() -> None:
    error = UnsupportedLayerError("gar1", "GarNet", ["Dense", "Conv2D"])
    assert str(error) == "layer 'gar1' of type 'GarNet' is not supported; supported types: Conv2D, Dense"
