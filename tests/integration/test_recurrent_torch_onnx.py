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
    """The whole output sequence of a recurrent layer (batch_first)."""

    def __init__(self, kind: str, layers: int = 1, **options: Any):
        super().__init__()
        self.rnn = getattr(torch.nn, kind)(F, H, num_layers=layers, batch_first=True, **options)

    def forward(self, x: Any) -> Any:
        return self.rnn(x)[0]


class LastStep(torch.nn.Module):
    """A classifier head on the last step: out[:, -1, :] (an ONNX Gather)."""

    def __init__(self, kind: str):
        super().__init__()
        self.rnn = getattr(torch.nn, kind)(F, H, batch_first=True)
        self.fc = torch.nn.Linear(H, 2)

    def forward(self, x: Any) -> Any:
        return self.fc(self.rnn(x)[0][:, -1, :])


class FinalState(torch.nn.Module):
    """h_n[-1]: the final state output (Y_h)."""

    def __init__(self, kind: str):
        super().__init__()
        self.rnn = getattr(torch.nn, kind)(F, H, batch_first=True)

    def forward(self, x: Any) -> Any:
        state = self.rnn(x)[1]
        return (state[0] if isinstance(state, tuple) else state)[-1]


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
}


def _module(case: str) -> Any:
    torch.manual_seed(sum(map(ord, case)))
    return MODULES[case]().eval()


def _inputs(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, T, F)).astype(np.float32)


def _torch(module: Any, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.tensor(x)).numpy().astype(np.float64)


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
    """LSTM -> GRU -> RNN (last step) -> Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(F, 5, batch_first=True)
        self.gru = torch.nn.GRU(5, H, batch_first=True)
        self.rnn = torch.nn.RNN(H, 3, batch_first=True)
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x: Any) -> Any:
        y = self.gru(self.lstm(x)[0])[0]
        return self.fc(self.rnn(y)[0][:, -1, :])


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_pytorch_cpp_equals_emulator(io_type: str, tmp_path: Path) -> None:
    torch.manual_seed(7)
    module = Stack().eval()
    model = converters.convert_from_pytorch_model(
        module, (T, F), output_dir=str(tmp_path / "prj"), io_type=io_type,
        hls_config={"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}},
    )  # fmt: skip
    model.compile()
    x = _inputs(64, seed=3)
    y_cpp, y_numpy = model.predict(x), model.predict(x, emulator="numpy")
    np.testing.assert_array_equal(y_cpp, y_numpy)
    assert np.max(np.abs(np.asarray(y_numpy) - _torch(module, x))) < 0.1


# ----- the onnx package's conformance cases ------------------------------------------------------------

RECURRENT_CASES = (
    "test_simple_rnn_defaults", "test_simple_rnn_with_initial_bias", "test_rnn_seq_length",
    "test_simple_rnn_batchwise", "test_simple_rnn_reverse", "test_lstm_defaults",
    "test_lstm_with_initial_bias", "test_lstm_batchwise", "test_gru_defaults",
    "test_gru_with_initial_bias", "test_gru_seq_length", "test_gru_batchwise", "test_gru_reverse",
)  # fmt: skip
REFUSED = {
    "test_lstm_reverse": "Y_c",
    "test_lstm_with_peepholes": "peephole",
    "test_lstm_bidirectional": "bidirectional",
    "test_gru_bidirectional": "bidirectional",
    "test_simple_rnn_bidirectional": "bidirectional",
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
