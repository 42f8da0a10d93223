"""Recurrent layers (SimpleRNN, LSTM, GRU) through the whole compiler, checked against Keras.

- the float reference interpreter equals Keras for every cell and option (1e-5);
- the numpy emulator with wide types agrees with Keras within a bound derived from the gate tables
  (the table step, the largest slope and the number of steps), and its agreement with fixed<16,6>
  is measured;
- one g++ build per io type of a model chaining every cell: C++ equals the emulator bit for bit.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from nnhls import converters  # noqa: E402
from nnhls.errors import NnhlsError  # noqa: E402
from nnhls.frontends.keras import import_keras, import_keras_model  # noqa: E402
from nnhls.interpreters.reference import run_reference  # noqa: E402

T, F = 6, 3
WIDE = "fixed<40,14>"
TABLE_SIZE = 1 << 14
"""Gate tables of 2^14 entries over [-8, 8): step 2^-10, so an entry differs from the function by
at most half a step times the largest slope (1 for tanh, 1/4 for sigmoid)."""


def _sequential(*layers: Any, seed: int = 0) -> Any:
    keras.utils.set_random_seed(seed)
    return _shifted_biases(keras.Sequential([keras.Input((T, F)), *layers]), seed)


def _shifted_biases(model: Any, seed: int) -> Any:
    """Non-trivial biases (Keras initialises them at zero or one): the 1-D / (2, n) arrays."""
    for layer in model.layers:
        weights = layer.get_weights()
        if weights and not isinstance(layer, keras.layers.LayerNormalization):
            rng = np.random.default_rng(seed)
            layer.set_weights([w + rng.uniform(-0.3, 0.3, w.shape).astype(np.float32) if w.ndim == 1 or w.shape[0] == 2 else w for w in weights])
    return model


CASES: dict[str, Any] = {
    "lstm_seq": lambda: keras.layers.LSTM(5, return_sequences=True),
    "lstm_last": lambda: keras.layers.LSTM(4),
    "lstm_backwards": lambda: keras.layers.LSTM(4, return_sequences=True, go_backwards=True),
    "lstm_hard_sigmoid": lambda: keras.layers.LSTM(4, recurrent_activation="hard_sigmoid", use_bias=False),
    "gru_seq": lambda: keras.layers.GRU(5, return_sequences=True),
    "gru_last": lambda: keras.layers.GRU(4),
    "gru_reset_before": lambda: keras.layers.GRU(4, reset_after=False, return_sequences=True),
    "gru_backwards": lambda: keras.layers.GRU(3, go_backwards=True),
    "rnn_seq": lambda: keras.layers.SimpleRNN(5, return_sequences=True),
    "rnn_relu_last": lambda: keras.layers.SimpleRNN(4, activation="relu"),
    "rnn_sigmoid_backwards": lambda: keras.layers.SimpleRNN(3, activation="sigmoid", go_backwards=True),
    "bi_lstm_concat_seq": lambda: keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True)),
    "bi_gru_sum_last": lambda: keras.layers.Bidirectional(keras.layers.GRU(3), merge_mode="sum"),
    "bi_rnn_mul_seq": lambda: keras.layers.Bidirectional(keras.layers.SimpleRNN(3, return_sequences=True), merge_mode="mul"),
    "bi_gru_ave_backward_lstm": lambda: keras.layers.Bidirectional(
        keras.layers.GRU(3, return_sequences=True), backward_layer=keras.layers.LSTM(3, return_sequences=True, go_backwards=True), merge_mode="ave"
    ),
}


def _return_state(layer: Any) -> Any:
    """The layer's outputs and final states side by side (one model output)."""
    keras.utils.set_random_seed(0)
    x = keras.Input((T, F))
    outputs = [keras.layers.Flatten()(y) for y in layer(x)]
    return _shifted_biases(keras.Model(x, keras.layers.Concatenate()(outputs)), 0)


STATE_CASES: dict[str, Any] = {
    "lstm_state_seq": lambda: _return_state(keras.layers.LSTM(3, return_sequences=True, return_state=True)),
    "lstm_state_backwards": lambda: _return_state(keras.layers.LSTM(3, go_backwards=True, return_state=True)),
    "gru_state_seq": lambda: _return_state(keras.layers.GRU(3, return_sequences=True, return_state=True)),
    "rnn_state": lambda: _return_state(keras.layers.SimpleRNN(3, return_state=True)),
}


def _model(case: str) -> Any:
    return STATE_CASES[case]() if case in STATE_CASES else _sequential(CASES[case]())


def _keras(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(model(x)), dtype=np.float64)


def _inputs(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, T, F)).astype(np.float32)


@pytest.mark.parametrize("case", sorted(CASES) + sorted(STATE_CASES))
def test_reference_equals_keras(case: str) -> None:
    model = _model(case)
    x = _inputs(16)
    want = _keras(model, x)
    got = run_reference(import_keras_model(model), [x.astype(np.float64)])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _table_bound() -> float:
    """A bound on |emulator - Keras| with WIDE types (their own rounding is below 2^-25): every
    gate read is off by at most half a table step times the function's largest slope (tanh 1,
    sigmoid 1/4, hard_sigmoid 1/6), about two half-steps per step once the gates are weighted;
    these small models contract (|U| small, slopes <= 1), so errors add up over the T steps at
    most."""
    half_step = 0.5 * 16.0 / TABLE_SIZE
    return 2 * T * half_step


@pytest.mark.parametrize("case", sorted(CASES) + sorted(STATE_CASES))
def test_emulator_wide_types_agree_with_keras(case: str, tmp_path: Path) -> None:
    model = _model(case)
    config = {"Model": {"Precision": WIDE, "ReuseFactor": 1}, "LayerType": {"RNN": {"TableSize": TABLE_SIZE}}}
    hls_model = converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), hls_config=config)
    x = _inputs(32)
    got = np.asarray(hls_model.predict(x, emulator="numpy"))
    want = _keras(model, x)
    assert np.max(np.abs(got - want)) <= _table_bound()


def chain_model() -> Any:
    """Every cell in one model (and a layer norm, to share the g++ build): LSTM -> LayerNormalization
    -> Bidirectional GRU (reset_after, concat) -> GRU (reset before, backwards) -> SimpleRNN (last
    step), beside an LSTM's return_state (h and c) -> Dense."""
    keras.utils.set_random_seed(3)
    x = keras.Input((T, F))
    y = keras.layers.LSTM(5, return_sequences=True, name="lstm")(x)
    y = keras.layers.LayerNormalization(name="norm", beta_initializer="ones", gamma_initializer=keras.initializers.RandomUniform(0.5, 1.5))(y)
    y = keras.layers.Bidirectional(keras.layers.GRU(2, return_sequences=True), name="gru")(y)
    y = keras.layers.GRU(4, return_sequences=True, reset_after=False, go_backwards=True, name="gru_rb")(y)
    y = keras.layers.SimpleRNN(3, name="rnn")(y)
    _, h, c = keras.layers.LSTM(2, return_state=True, name="memory")(x)
    out = keras.layers.Dense(2, name="out")(keras.layers.Concatenate(name="join")([y, h, c]))
    return _shifted_biases(keras.Model(x, out), 3)


@pytest.fixture(scope="session")
def chain() -> Any:
    return chain_model()


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_cpp_equals_emulator(chain: Any, io_type: str, tmp_path: Path) -> None:
    # The LSTM fully unrolled (Static: False) with its own RecurrentReuseFactor: the same bits.
    config = {
        "Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1},
        "LayerName": {"gru_forward": {"TableSize": 256}, "lstm": {"Static": False, "RecurrentReuseFactor": 4, "ReuseFactor": 3}},
    }
    model = converters.convert_from_keras_model(chain, output_dir=str(tmp_path / "prj"), io_type=io_type, hls_config=config)
    assert "hls.recurrent" in model.ir("hls")
    model.compile()
    parameters = (tmp_path / "prj" / "firmware" / "parameters.h").read_text()
    assert "recurrent_reuse_factor = 4;" in parameters and "use_static = false;" in parameters
    x = _inputs(64, seed=5)
    y_cpp, y_numpy = model.predict(x), model.predict(x, emulator="numpy")
    np.testing.assert_array_equal(y_cpp, y_numpy)
    # A guard against gross errors only: fixed<16,6> through five recurrent layers and a layer
    # norm (which amplifies the small LSTM outputs' errors) stays within 0.25 of Keras here; the
    # tight checks are the wide-type tests above and bench/bench_recurrent.py's figures.
    err = float(np.max(np.abs(np.asarray(y_numpy) - _keras(chain, x))))
    assert err < 0.5


def test_precision_inference_rule(chain: Any, tmp_path: Path) -> None:
    """`auto` through the recurrence: the state type is set by the activations' range (tanh times
    sigmoid: [-1, 1], the default's 10 fractional bits), never by the sequence length; the LSTM
    cell holds T * max |i * g| = 6."""
    config = {"Model": {"Precision": "fixed<16,6>"}, "LayerType": {"RNN": {"Precision": "auto"}}}
    model = converters.convert_from_keras_model(chain, output_dir=str(tmp_path / "prj"), hls_config=config)
    types = {
        re.findall(r'layer = "(\w+)"', line)[0]: dict(re.findall(r"\b(\w+_t) = !hls\.(\w+<[-\d, ]+>)", line))
        for line in model.ir("hls").splitlines()
        if "hls.recurrent" in line
    }
    layers = ("lstm", "gru_forward", "gru_backward", "gru_rb", "rnn", "memory", "memory_state_c")
    assert {layer: t["state_t"] for layer, t in types.items()} == dict.fromkeys(layers, "fixed<12, 2>")
    assert types["lstm"]["cell_t"] == "fixed<14, 4>"
    assert types["lstm"]["recurrent_table_t"] == "ufixed<11, 1>"


def _functional(layer: Any, batch_size: int | None = None) -> Any:
    inp = keras.Input((T, F), batch_size=batch_size)
    out = layer(inp)
    return keras.Model(inp, out[0] if isinstance(out, list | tuple) else out)


def test_unsupported_options_name_the_option() -> None:
    cases = (
        (_functional(keras.layers.LSTM(3, stateful=True), batch_size=1), "option stateful=True"),
        (_functional(keras.layers.Bidirectional(keras.layers.GRU(3, return_state=True))), "option return_state=True on a Bidirectional"),
        (_functional(keras.layers.LSTM(3, activation="elu")), "activation 'elu'"),
        (keras.Sequential([keras.Input((T, F)), keras.layers.Masking(), keras.layers.LSTM(3)]), "masking"),
    )
    for model, message in cases:
        with pytest.raises(NnhlsError, match=message):
            import_keras_model(model)


def test_keras_file_with_recurrent_weights(chain: Any, tmp_path: Path) -> None:
    """A saved .keras archive keeps recurrent weights in each layer's cell: read from the file,
    the model computes what Keras does."""
    path = tmp_path / "chain.keras"
    chain.save(path)
    x = _inputs(8)
    got = run_reference(import_keras(str(path)), [x.astype(np.float64)])[0]
    np.testing.assert_allclose(got, _keras(chain, x), rtol=1e-5, atol=1e-5)



def _estimates(model: Any, layer: str) -> dict[str, int]:
    line = next(line for line in model.ir("hls").splitlines() if f'layer = "{layer}"' in line and "hls.recurrent" in line)
    return {key: int(v) for key, v in re.findall(r"\b(multipliers|latency|ii|recurrent_reuse_factor) = (\d+)", line)}


def test_recurrent_reuse_factor_and_static_in_estimates(tmp_path: Path) -> None:
    """RecurrentReuseFactor divides the recurrent multipliers only (ReuseFactor the input ones);
    Static: False (unrolled) multiplies them by the sequence length and lowers the II to one
    step's; the latency grows with the sequence length either way."""
    units = 4

    def estimates(steps: int, layer_config: dict[str, Any]) -> dict[str, int]:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((steps, F)), keras.layers.LSTM(units, name="lstm")])
        # Odd multiples of 2^-10 from 3: no weight is free (zero or a power of two) in fixed<16,6>.
        rng = np.random.default_rng(0)
        model.layers[0].set_weights([rng.choice([-1, 1], w.shape) * rng.choice(np.arange(3, 512, 2), w.shape) / 1024 for w in model.layers[0].get_weights()])
        config = {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}, "LayerName": {"lstm": layer_config}}
        hls_model = converters.convert_from_keras_model(model, output_dir=str(tmp_path / f"prj{len(layer_config)}_{steps}"), hls_config=config)
        return _estimates(hls_model, "lstm")

    base = estimates(T, {})
    elementwise = 3 * units
    assert base["recurrent_reuse_factor"] == 1
    assert base["multipliers"] == F * 4 * units + units * 4 * units + elementwise
    assert base["ii"] == base["latency"] and base["latency"] % T == 0
    assert estimates(2 * T, {})["latency"] == 2 * base["latency"]
    reused = estimates(T, {"RecurrentReuseFactor": 8})
    assert reused["recurrent_reuse_factor"] == 8
    assert reused["multipliers"] == F * 4 * units + units * 4 * units // 8 + elementwise
    assert reused["latency"] == base["latency"] + T * (8 - 1)
    unrolled = estimates(T, {"Static": False})
    assert unrolled["multipliers"] == T * base["multipliers"]
    assert unrolled["latency"] == base["latency"] and unrolled["ii"] == 1


def test_recurrent_config_keys_refused_with_one_line(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((T, F)), keras.layers.GRU(3, name="gru"), keras.layers.Dense(2, name="fc")])
    cases = (
        ({"gru": {"RecurrentReuseFactor": 0}}, r"LayerName\.gru\.RecurrentReuseFactor.*0"),
        ({"gru": {"Static": "no"}}, r"LayerName\.gru\.Static"),
        ({"fc": {"Static": False}}, "key 'Static' does not apply"),
        ({"fc": {"RecurrentReuseFactor": 2}}, "key 'RecurrentReuseFactor' does not apply"),
        ({"gru": {"RecurrentReuseFactor": 28}}, "RecurrentReuseFactor 28 exceeds the 27 products"),
    )
    for i, (layers, message) in enumerate(cases):
        config = {"Model": {"Precision": "fixed<16,6>"}, "LayerName": layers}
        with pytest.raises(NnhlsError, match=message) as info:
            converters.convert_from_keras_model(model, output_dir=str(tmp_path / f"prj{i}"), hls_config=config)
        assert "\n" not in str(info.value)
