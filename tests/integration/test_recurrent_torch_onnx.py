"""Recurrent layers from PyTorch (nn.RNN, nn.LSTM, nn.GRU through their ONNX export) and from
ONNX (the RNN / LSTM / GRU conformance cases the onnx package generates), checked against torch and
against the cases' expected outputs; one g++ build per io type checks C++ against the emulator.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from nnhls import converters
from nnhls.dialects.fixed import parse_precision
from nnhls.errors import NnhlsError
from nnhls.frontends.onnx import import_onnx
from nnhls.frontends.pytorch import import_pytorch
from nnhls.interpreters.reference import run_reference

torch = pytest.importorskip("torch")

T, F, H = 6, 3, 4
WIDE = {"Model": {"Precision": "fixed<40,14>", "ReuseFactor": 1}, "LayerType": {"RNN": {"TableSize": 1 << 14}}}
WIDE_BOUND = 2 * T * 0.5 * 16.0 / (1 << 14)
"""Two half table steps per time step (see test_recurrent.py)."""


class Sequence(torch.nn.Module):
    """The whole output sequence of a recurrent layer, batch first (a time-major layer's output
    is transposed: nnhls takes and returns batch-first data)."""

    def __init__(self, kind: str, layers: int = 1, batch_first: bool = True, **options: Any):
        super().__init__()
        self.batch_first = batch_first
        self.rnn = getattr(torch.nn, kind)(F, H, num_layers=layers, batch_first=batch_first, **options)

    def forward(self, x: Any) -> Any:
        return self.rnn(x)[0]


class LastStep(torch.nn.Module):
    """A classifier head on the last step: out[:, -1, :] (out[-1] time-major; an ONNX Gather)."""

    def __init__(self, kind: str, batch_first: bool = True):
        super().__init__()
        self.batch_first = batch_first
        self.rnn = getattr(torch.nn, kind)(F, H, batch_first=batch_first)
        self.fc = torch.nn.Linear(H, 2)

    def forward(self, x: Any) -> Any:
        y = self.rnn(x)[0]
        return self.fc(y[:, -1, :] if self.batch_first else y[-1])


class FinalState(torch.nn.Module):
    """h_n[-1]: the final state output (Y_h; the backward direction's of a bidirectional layer),
    with h_n[0] beside it for a bidirectional one."""

    def __init__(self, kind: str, batch_first: bool = True, bidirectional: bool = False):
        super().__init__()
        self.batch_first = batch_first
        self.rnn = getattr(torch.nn, kind)(F, H, batch_first=batch_first, bidirectional=bidirectional)

    def forward(self, x: Any) -> Any:
        state = self.rnn(x)[1]
        state = state[0] if isinstance(state, tuple) else state
        return torch.cat([state[0], state[-1]], dim=1) if self.rnn.bidirectional else state[-1]


MODULES: dict[str, Any] = {
    "lstm_seq": lambda: Sequence("LSTM"),
    "gru_seq": lambda: Sequence("GRU"),
    "rnn_seq": lambda: Sequence("RNN"),
    "rnn_relu_seq": lambda: Sequence("RNN", nonlinearity="relu"),
    "lstm_two_layers": lambda: Sequence("LSTM", layers=2),
    "gru_two_layers": lambda: Sequence("GRU", layers=2),
    "lstm_last_step": lambda: LastStep("LSTM"),
    "gru_last_step": lambda: LastStep("GRU"),
    "lstm_final_state": lambda: FinalState("LSTM"),
    "gru_final_state": lambda: FinalState("GRU"),
    "lstm_bidirectional_seq": lambda: Sequence("LSTM", bidirectional=True),
    "gru_bidirectional_two_layers": lambda: Sequence("GRU", layers=2, bidirectional=True),
    "rnn_bidirectional_time_major": lambda: Sequence("RNN", batch_first=False, bidirectional=True),
    "lstm_time_major_two_layers": lambda: Sequence("LSTM", layers=2, batch_first=False),
    "gru_time_major_last_step": lambda: LastStep("GRU", batch_first=False),
    "lstm_bidirectional_final_state": lambda: FinalState("LSTM", bidirectional=True),
    "gru_time_major_bidirectional_final_state": lambda: FinalState("GRU", batch_first=False, bidirectional=True),
}


def _module(case: str) -> Any:
    torch.manual_seed(sum(map(ord, case)))
    return MODULES[case]().eval()


def _inputs(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, T, F)).astype(np.float32)


def _torch(module: Any, x: np.ndarray) -> np.ndarray:
    """The module's output for batch-first data x (fed time-major to a time-major module, whose
    sequence output comes back batch first)."""
    time_major = not getattr(module, "batch_first", True)
    with torch.no_grad():
        y = module(torch.tensor(x.transpose(1, 0, 2) if time_major else x)).numpy().astype(np.float64)
    return y.transpose(1, 0, 2) if time_major and isinstance(module, Sequence) else y


@pytest.mark.parametrize("case", sorted(MODULES))
def test_pytorch_reference_and_emulator(case: str, tmp_path: Path) -> None:
    module = _module(case)
    x = _inputs(32)
    want = _torch(module, x)
    got = run_reference(import_pytorch(module, (T, F)), [x.astype(np.float64)])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    model = converters.convert_from_pytorch_model(module, (T, F), output_dir=str(tmp_path / "prj"), hls_config=WIDE)
    emulated = np.asarray(model.predict(x, emulator="numpy"))
    assert np.max(np.abs(emulated - want)) <= WIDE_BOUND


class Stack(torch.nn.Module):
    """Token ids -> Embedding -> LSTM -> bidirectional GRU -> RNN (last step) -> Linear (one g++
    build per io type checks the recurrent and embedding kernels)."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(20, F)
        self.lstm = torch.nn.LSTM(F, 5, batch_first=True)
        self.gru = torch.nn.GRU(5, H, batch_first=True, bidirectional=True)
        self.rnn = torch.nn.RNN(2 * H, 3, batch_first=True)
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, ids: Any) -> Any:
        y = self.gru(self.lstm(self.embed(ids))[0])[0]
        return self.fc(self.rnn(y)[0][:, -1, :])


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_pytorch_cpp_equals_emulator(io_type: str, tmp_path: Path) -> None:
    torch.manual_seed(7)
    module = Stack().eval()
    model = converters.convert_from_pytorch_model(
        module, (T,), output_dir=str(tmp_path / "prj"), io_type=io_type,
        hls_config={"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}},
    )  # fmt: skip
    assert "hls.embedding" in model.ir("hls")
    model.compile()
    ids = np.random.default_rng(3).integers(0, 20, (64, T))
    y_cpp, y_numpy = model.predict(ids.astype(np.float64)), model.predict(ids.astype(np.float64), emulator="numpy")
    np.testing.assert_array_equal(y_cpp, y_numpy)
    with torch.no_grad():
        want = module(torch.tensor(ids)).numpy()
    assert np.max(np.abs(np.asarray(y_numpy) - want)) < 0.1


# ----- the onnx package's conformance cases ------------------------------------------------------------

RECURRENT_CASES = (
    "test_simple_rnn_defaults", "test_simple_rnn_with_initial_bias", "test_rnn_seq_length",
    "test_simple_rnn_batchwise", "test_simple_rnn_reverse", "test_lstm_defaults",
    "test_lstm_with_initial_bias", "test_lstm_batchwise", "test_gru_defaults",
    "test_gru_with_initial_bias", "test_gru_seq_length", "test_gru_batchwise", "test_gru_reverse",
    "test_lstm_reverse", "test_lstm_bidirectional", "test_gru_bidirectional", "test_simple_rnn_bidirectional",
)  # fmt: skip
REFUSED = {
    "test_lstm_with_peepholes": "peephole",
}


@pytest.fixture(scope="module")
def cases() -> dict[str, Any]:
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return {c.name: c for c in collect_testcases() if c.name in (*RECURRENT_CASES, *REFUSED)}


def _case_model(case: Any) -> tuple[onnx.ModelProto, np.ndarray, list[np.ndarray], int]:
    """The case with its weights as initializers, its data batch-first, its outputs batch-first."""
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    inputs, outputs = case.data_sets[0]
    graph = model.graph
    names = [vi.name for vi in graph.input]
    for name, value in zip(names[1:], inputs[1:], strict=True):
        graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    kept = [graph.input[0]]
    del graph.input[:]
    graph.input.extend(kept)
    layout = next((int(a.i) for a in graph.node[0].attribute if a.name == "layout"), 0)
    x = np.asarray(inputs[0], np.float64)
    expected = [np.asarray(o, np.float64) for o in outputs]
    if layout == 0:  # X (T, N, F), Y (T, D, N, H), Y_h (D, N, H)
        x = x.transpose(1, 0, 2)
        axes = {4: 2, 3: 1}
        expected = [np.moveaxis(e, axes[e.ndim], 0) for e in expected]
    return model, x, expected, layout


@pytest.mark.parametrize("name", RECURRENT_CASES)
def test_onnx_conformance_cases(name: str, cases: dict[str, Any], tmp_path: Path) -> None:
    model, x, expected, _ = _case_model(cases[name])
    got = run_reference(import_onnx(model), [x])
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    hls_model = converters.convert_from_onnx_model(model, output_dir=str(tmp_path / "prj"), hls_config=WIDE)
    emulated = hls_model.predict(x, emulator="numpy")
    for a, b in zip(emulated if isinstance(emulated, list) else [emulated], expected, strict=True):
        assert np.max(np.abs(np.asarray(a) - b)) <= WIDE_BOUND


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_onnx_refused_cases_name_the_option(name: str, cases: dict[str, Any]) -> None:
    model, _, _, _ = _case_model(cases[name])
    with pytest.raises(NnhlsError, match=REFUSED[name]):
        import_onnx(model)


# ----- a trained sequence classifier --------------------------------------------------------------------


def _pattern_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of 12 steps of 2 noisy features; class 1 holds a bump (+1.5 on feature 0 for 3
    consecutive steps, at a random place), class 0 is noise only."""
    x = rng.normal(0.0, 0.5, (n, 12, 2)).astype(np.float32)
    y = rng.integers(0, 2, n)
    for i in np.flatnonzero(y):
        start = rng.integers(0, 10)
        x[i, start : start + 3, 0] += 1.5
    return x, y


class Classifier(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = torch.nn.GRU(2, 8, batch_first=True)
        self.fc = torch.nn.Linear(8, 2)

    def forward(self, x: Any) -> Any:
        return self.fc(self.gru(x)[0][:, -1, :])


@pytest.fixture(scope="module")
def classifier() -> tuple[Any, np.ndarray, np.ndarray]:
    """A GRU trained here on synthetic sequences (a bump in noise), with fresh test sequences and
    the float model's decisions on them."""
    torch.manual_seed(11)
    rng = np.random.default_rng(11)
    x_train, y_train = _pattern_data(2048, rng)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    xs, ys = torch.tensor(x_train), torch.tensor(y_train)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a few seconds of training; no oversubscription under xdist
    try:
        for step in range(150):
            batch = slice((step % 16) * 128, (step % 16 + 1) * 128)
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch])
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    x_test, y_test = _pattern_data(1000, rng)
    float_pred = np.argmax(_torch(model, x_test), axis=1)
    assert np.mean(float_pred == y_test) > 0.9  # the model learnt the pattern
    return model, x_test, float_pred


def test_trained_sequence_classifier_keeps_its_decisions(classifier: tuple[Any, np.ndarray, np.ndarray], tmp_path: Path) -> None:
    """>= 99% argmax agreement with the float model through the numpy emulator (bit-exact with
    the C++ build, checked above), with fixed<16,6> and `auto` recurrent types."""
    model, x_test, float_pred = classifier
    config = {"Model": {"Precision": "fixed<16,6>"}, "LayerType": {"RNN": {"Precision": "auto"}}}
    hls_model = converters.convert_from_pytorch_model(model, (12, 2), output_dir=str(tmp_path / "prj"), hls_config=config)
    fixed_pred = np.argmax(np.asarray(hls_model.predict(x_test, emulator="numpy")), axis=1)
    assert np.mean(fixed_pred == float_pred) >= 0.99


def test_calibrated_sequence_classifier_keeps_its_decisions(classifier: tuple[Any, np.ndarray, np.ndarray], tmp_path: Path) -> None:
    """Calibration (config_from_pytorch_model with calibration_data) narrows the GRU's input
    kernel, bias and result and the other layers' types, and the calibrated model keeps >= 99%
    argmax agreement with the float model on sequences calibration never saw; on them nothing
    wraps, and the only saturation allowed is rounding at the edge of a bounded range (a GRU state
    in (-1, 1) held as fixed<W,1> rounds values near 1 to its largest value: at most one step)."""
    from nnhls import utils

    model, x_test, float_pred = classifier
    x_cal, _ = _pattern_data(300, np.random.default_rng(5))
    config = utils.config_from_pytorch_model(model, (12, 2), granularity="name", calibration_data=x_cal, target=0.99)
    gru = next(entry for name, entry in config["LayerName"].items() if "GRU" in name)
    assert {"weight", "bias", "result"} <= {k for k, v in gru["Precision"].items() if v != "auto"}
    hls_model = converters.convert_from_pytorch_model(model, (12, 2), output_dir=str(tmp_path / "prj"), hls_config=config)
    fixed_pred = np.argmax(np.asarray(hls_model.predict(x_test, emulator="numpy")), axis=1)
    assert np.mean(fixed_pred == float_pred) >= 0.99
    rows = hls_model.overflow_report(x_test)
    assert any(r["var"] == "result" and "GRU" in r["layer"] for r in rows)  # the recurrent layer is scanned
    for row in (r for r in rows if r["overflows"]):
        step = 2.0 ** -parse_precision(str(row["type"])).fractional
        assert row["mode"] == "saturated" and float(str(row["excess"])) <= step, row


class BidirectionalLastStep(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = torch.nn.GRU(F, H, batch_first=True, bidirectional=True)

    def forward(self, x: Any) -> Any:
        return self.rnn(x)[0][:, -1, :]


def test_pytorch_unsupported_recurrent_patterns_name_the_node() -> None:
    """out[:, -1] of a bidirectional layer and h_n of a two-layer stack (a Concat of time-major
    states) stop with one line naming the ONNX node, a projected LSTM naming the module."""
    stacked = FinalState("LSTM")
    stacked.rnn = torch.nn.LSTM(F, H, num_layers=2, batch_first=True)
    projected = Sequence("LSTM", proj_size=2)
    cases = (
        (BidirectionalLastStep(), r"'/Gather'.*last step of a recurrent layer's sequence"),
        (stacked, r"'/rnn/Concat\w*'.*has its batch on axis 1"),
        (projected, r"module 'rnn' \(LSTM\): option proj_size=2"),
    )
    for module, message in cases:
        with pytest.raises(NnhlsError, match=message) as info:
            import_pytorch(module.eval(), (T, F))
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("op_type", ["RNN", "LSTM", "GRU"])
def test_onnx_bidirectional_batch_first_layout(op_type: str, tmp_path: Path) -> None:
    """A bidirectional op with layout 1 (batch first: X (N, T, F), Y (N, T, 2, H), Y_h (N, 2, H)),
    every output used, against the onnx package's reference evaluator."""
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[op_type]
    rng = np.random.default_rng(len(op_type))
    weights = {
        "W": rng.uniform(-0.6, 0.6, (2, gates * H, F)), "R": rng.uniform(-0.6, 0.6, (2, gates * H, H)),
        "B": rng.uniform(-0.3, 0.3, (2, 2 * gates * H)),
    }  # fmt: skip
    outputs = ["Y", "Y_h", "Y_c"][: 3 if op_type == "LSTM" else 2]
    attrs: dict[str, Any] = {"direction": "bidirectional", "hidden_size": H, "layout": 1}
    if op_type == "GRU":
        attrs["linear_before_reset"] = 1
    node = helper.make_node(op_type, ["X", "W", "R", "B"], outputs, **attrs)
    shapes = {"Y": [1, T, 2, H], "Y_h": [1, 2, H], "Y_c": [1, 2, H]}
    graph = helper.make_graph(
        [node], "bidirectional", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, T, F])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, shapes[o]) for o in outputs],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    x = _inputs(8)
    evaluator = ReferenceEvaluator(model)
    want = [np.asarray(v, np.float64) for v in list(evaluator.run(None, {"X": x}))]  # layout 1: a batch of 8
    got = run_reference(import_onnx(model), [x.astype(np.float64)])
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    hls_model = converters.convert_from_onnx_model(model, output_dir=str(tmp_path / "prj"), hls_config=WIDE)
    emulated = hls_model.predict(x, emulator="numpy")
    for a, b in zip(emulated, want, strict=True):
        assert np.max(np.abs(np.asarray(a) - b)) <= WIDE_BOUND
