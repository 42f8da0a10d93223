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
    """Token ids -> Embedding -> LSTM -> GRU -> RNN (last step) -> Linear (one g++ build per io
    type checks the recurrent and embedding kernels)."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(20, F)
        self.lstm = torch.nn.LSTM(F, 5, batch_first=True)
        self.gru = torch.nn.GRU(5, H, batch_first=True)
        self.rnn = torch.nn.RNN(H, 3, batch_first=True)
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


def test_trained_sequence_classifier_keeps_its_decisions(tmp_path: Path) -> None:
    """A GRU trained here on synthetic sequences (a bump in noise) keeps >= 99% argmax agreement
    with the float model through the numpy emulator (bit-exact with the C++ build, checked above),
    with fixed<16,6> and `auto` recurrent types."""
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
    config = {"Model": {"Precision": "fixed<16,6>"}, "LayerType": {"RNN": {"Precision": "auto"}}}
    hls_model = converters.convert_from_pytorch_model(model, (12, 2), output_dir=str(tmp_path / "prj"), hls_config=config)
    fixed_pred = np.argmax(np.asarray(hls_model.predict(x_test, emulator="numpy")), axis=1)
    assert np.mean(fixed_pred == float_pred) >= 0.99
