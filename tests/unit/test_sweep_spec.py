"""Sweep descriptions, the results store and the Pareto front (no Dask: fast).

The Dask runs themselves are in tests/integration/test_sweep.py.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from nnhls.compiler.sweep.errors import MissingExtraError, SweepError
from nnhls.compiler.sweep.report import pareto_mask
from nnhls.compiler.sweep.results import RESULTS_CSV, ResultsStore
from nnhls.compiler.sweep.spec import expand_values, parse_key
from nnhls.compiler.sweep.spec import load_spec as driver_load_spec
from nnhls.converters import load_yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"


def load_spec(source: object, **overrides: object) -> object:
    return driver_load_spec(source, read_config=load_yaml, **overrides)  # type: ignore[arg-type]


def spec_mapping(**extra: object) -> dict[str, object]:
    return {"base": str(EXAMPLE / "config.yml"), **extra}


# ----- keys and values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("IOType", ("IOType",)),
        ("ClockPeriod", ("ClockPeriod",)),
        ("WriterConfig.Namespace", ("WriterConfig", "Namespace")),
        ("Model.ReuseFactor", ("HLSConfig", "Model", "ReuseFactor")),
        ("HLSConfig.Model.Strategy", ("HLSConfig", "Model", "Strategy")),
        ("Model.Precision.default", ("HLSConfig", "Model", "Precision", "default")),
        ("Model.Precision.accum", ("HLSConfig", "Model", "Precision", "accum")),
        ("LayerType.Dense.ReuseFactor", ("HLSConfig", "LayerType", "Dense", "ReuseFactor")),
        ("LayerName.fc1.Precision.weight", ("HLSConfig", "LayerName", "fc1", "Precision", "weight")),
        ("LayerName.fc1.Precision", ("HLSConfig", "LayerName", "fc1", "Precision")),
        # ONNX / PyTorch layer names hold dots: the key and variable are read from the end
        ("LayerName./model.0/Gemm.ReuseFactor", ("HLSConfig", "LayerName", "/model.0/Gemm", "ReuseFactor")),
        ("LayerName.model.fc.Precision.result", ("HLSConfig", "LayerName", "model.fc", "Precision", "result")),
    ],
)
def test_keys_name_any_config_level(key: str, path: tuple[str, ...]) -> None:
    assert parse_key(key) == path


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("Model.ReuseFactr", "unknown Model key 'ReuseFactr' (did you mean 'ReuseFactor'?)"),
        ("IOTyp", "unknown sweep key 'IOTyp' (did you mean 'IOType'?)"),
        ("LayerName.fc1.Strategyy", "unknown layer key 'Strategyy' (did you mean 'Strategy'?)"),
        ("LayerName.fc1.Precision.wieght", "unknown precision variable 'wieght' (did you mean 'weight'?)"),
        ("LayerName.ReuseFactor", "expected LayerName.<layer>.<key>"),
        ("OutputDir", "every point writes its project into its own directory"),
        ("Model.Precision.weight.x", "expected Model.<key> or Model.Precision.<variable>"),
    ],
)
def test_unknown_keys_are_named_with_a_suggestion(key: str, message: str) -> None:
    with pytest.raises(SweepError) as error:
        parse_key(key)
    assert message in str(error.value)


def test_value_grids() -> None:
    assert expand_values("k", [1, 2, 3]) == (1, 2, 3)
    assert expand_values("k", 5) == (5,)
    assert expand_values("k", {"start": 2, "stop": 10, "step": 4}) == (2, 6, 10)
    assert expand_values("k", {"start": 1, "stop": 16, "factor": 2}) == (1, 2, 4, 8, 16)
    assert expand_values("k", {"start": 2.5, "stop": 3.0, "step": 0.25}) == (2.5, 2.75, 3.0)
    assert expand_values("k", {"width": [8, 10], "integer": {"start": 1, "stop": 2}}) == (
        "fixed<8,1>", "fixed<8,2>", "fixed<10,1>", "fixed<10,2>",
    )  # fmt: skip
    assert expand_values("k", {"width": 6, "integer": 0, "signed": False}) == ("ufixed<6,0>",)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "has no values"),
        ({"start": 1, "stop": 4, "step": 0}, "step must be positive"),
        ({"start": 1, "stop": 4, "factor": 1}, "factor > 1"),
        ({"start": 0, "stop": 1e12, "step": 1}, "exceed the limit"),
        ({"begin": 1}, "a mapping must be a range"),
        ({"width": [8.5], "integer": [1]}, "must be integers"),
        ([[1, 2]], "values must be numbers, strings or booleans"),
        ([float("nan")], "not a finite number"),
        (["fixed<8", "3>"], "'fixed<8' is a precision cut at a comma: quote each precision"),
    ],
)
def test_bad_values_are_refused(values: object, message: str) -> None:
    with pytest.raises(SweepError) as error:
        expand_values("Model.ReuseFactor", values)
    assert message in str(error.value)


# ----- the spec ---------------------------------------------------------------------------------------------


def test_grid_then_explicit_points(tmp_path: Path) -> None:
    spec = load_spec(
        spec_mapping(
            axes={"Model.ReuseFactor": [1, 2], "IOType": ["io_parallel", "io_stream"]},
            points=[{"Model.ReuseFactor": 3, "Model.Strategy": "Resource"}, {"Model.ReuseFactor": 1, "IOType": "io_stream"}],
        ),
        output=tmp_path / "out",
    )
    settings = [dict(p.settings) for p in spec.points]
    assert settings[:4] == [dict(zip(("Model.ReuseFactor", "IOType"), c, strict=True)) for c in itertools.product([1, 2], ["io_parallel", "io_stream"])]
    assert settings[4] == {"Model.ReuseFactor": 3, "Model.Strategy": "Resource"}
    assert len(spec.points) == 5  # the explicit duplicate of a grid point runs once
    assert spec.keys == ("Model.ReuseFactor", "IOType", "Model.Strategy")
    assert [p.index for p in spec.points] == list(range(5))
    assert len({p.id for p in spec.points}) == 5
    # the point's config: base + settings, its own project directory; the base is not modified
    config = spec.point_config(spec.points[4], tmp_path / "p4")
    assert config["HLSConfig"]["Model"]["ReuseFactor"] == 3
    assert config["HLSConfig"]["Model"]["Strategy"] == "Resource"
    assert config["HLSConfig"]["LayerName"]["fc1"]["Precision"]["weight"] == "auto"
    assert config["OutputDir"] == str(tmp_path / "p4")
    assert spec.base["HLSConfig"]["Model"]["ReuseFactor"] == 1
    assert Path(config["KerasModel"]).is_file()  # relative paths of the base YAML resolved


def test_point_ids_depend_on_settings_only(tmp_path: Path) -> None:
    small = load_spec(spec_mapping(axes={"Model.ReuseFactor": [2, 4]}), output=tmp_path)
    large = load_spec(spec_mapping(axes={"Model.ReuseFactor": [1, 2, 4, 8]}), output=tmp_path)
    assert {p.id for p in small.points} <= {p.id for p in large.points}


def test_unquoted_precisions_in_a_yaml_list_are_caught(tmp_path: Path) -> None:
    (tmp_path / "sweep.yml").write_text(f"base: {EXAMPLE / 'config.yml'}\naxes:\n  Model.Precision.default: [fixed<8,3>, fixed<10,4>]\n")
    with pytest.raises(SweepError, match="is a precision cut at a comma"):
        load_spec(tmp_path / "sweep.yml")
    (tmp_path / "sweep.yml").write_text(f"base: {EXAMPLE / 'config.yml'}\naxes:\n  Model.Precision.default: ['fixed<8,3>', 'fixed<10,4>']\n")
    assert [dict(p.settings) for p in load_spec(tmp_path / "sweep.yml").points] == [
        {"Model.Precision.default": "fixed<8,3>"}, {"Model.Precision.default": "fixed<10,4>"},
    ]  # fmt: skip


def test_sweep_file_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "sweep.yml").write_text(
        f"base: {EXAMPLE / 'config.yml'}\noutput: results\naxes:\n  Model.ReuseFactor: [1, 2]\n"
        "data: {inputs: x.npy, reference: y.npy}\n"
    )
    spec = load_spec(tmp_path / "sweep.yml")
    assert spec.output == tmp_path / "results"
    assert spec.data.inputs == tmp_path / "x.npy"
    assert spec.name == "sweep"
    default = load_spec(spec_mapping(axes={"IOType": ["io_stream"]}))
    assert default.output == Path.cwd() / "sweep_sweep"
    # without data keys, the base config's InputData / OutputPredictions are the accuracy data
    assert default.data.inputs == EXAMPLE / "inputs.npy"
    assert default.data.reference == EXAMPLE / "float_outputs.npy"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"axes": {"Model.ReuseFactor": [1]}}, "needs a base config"),
        (spec_mapping(), "the sweep has no points"),
        (spec_mapping(axes={"Model.ReuseFactor": [1]}, measure=["estimates", "acuracy"]), "unknown measurement 'acuracy' (did you mean 'accuracy'?)"),
        (spec_mapping(axis={"Model.ReuseFactor": [1]}), "unknown key 'axis' (did you mean 'axes'?)"),
        (spec_mapping(axes={"Model.ReuseFactor": [1]}, emulator="verilator"), "emulator must be one of numpy, cpp"),
        (spec_mapping(axes={"Model.ReuseFactor": [1]}, build={"synthesis": True}), "unknown key 'synthesis'"),
        (spec_mapping(axes={"Model.ReuseFactor": [1]}, data={"samples": 0}), "data.samples must be a positive integer"),
        (spec_mapping(axes=[{"key": "Model.ReuseFactor"}]), "axes[0] needs 'key' and 'values'"),
        (spec_mapping(axes={"IOType": ["io_stream"]}, name="../../etc"), "sweep name '../../etc' must be letters"),
        ({"base": {"KerasModel": object()}, "axes": {"IOType": ["io_stream"]}}, "must be plain data"),
        (
            {"base": {"KerasModel": "m.keras", "HLSConfig": {"LayerName": {"fc1": {"Precision": "fixed<8,3>"}}}}, "axes": {"LayerName.fc1.Precision.weight": ["fixed<4,1>"]}},
            "the base config sets HLSConfig.LayerName.fc1.Precision to 'fixed<8,3>'; give it per variable",
        ),
        ({"base": {"KerasModel": "m.keras"}, "axes": {"Model.ReuseFactor": [1]}, "measure": ["accuracy"]}, "measuring accuracy needs data"),
    ],
)
def test_bad_specs_fail_before_anything_runs(tmp_path: Path, mapping: dict[str, object], message: str) -> None:
    with pytest.raises(SweepError) as error:
        load_spec(mapping, output=tmp_path)
    assert message in str(error.value)


def test_model_precision_string_becomes_default_when_one_variable_is_swept(tmp_path: Path) -> None:
    spec = load_spec(
        {"base": {"KerasModel": "m.keras", "HLSConfig": {"Model": {"Precision": "fixed<16,6>"}}}, "axes": {"Model.Precision.accum": ["fixed<20,8>"]}, "measure": ["estimates"]},
        output=tmp_path,
    )
    config = spec.point_config(spec.points[0], tmp_path / "p")
    assert config["HLSConfig"]["Model"]["Precision"] == {"default": "fixed<16,6>", "accum": "fixed<20,8>"}


# ----- results store -----------------------------------------------------------------------------------------


def _row(point: str, status: str = "ok", **metrics: object) -> dict[str, object]:
    return {"index": 0, "point": point, "status": status, "Model.ReuseFactor": 2, **metrics, "error": "", "time_s": 0.5}


def test_store_streams_rows_and_resumes(tmp_path: Path) -> None:
    fingerprint = {"base_config": "abc"}
    with ResultsStore(tmp_path, ["Model.ReuseFactor"], fingerprint) as store:
        store.append(_row("a", status="failed", error="reuse factor 7 is not legal"))
        store.append(_row("b", multipliers=10, agreement=0.5))  # new columns: the header grows
        store.append(_row("c", status="error", error="KilledWorker"))
    text = (tmp_path / RESULTS_CSV).read_text()
    header = text.splitlines()[0].split(",")
    assert header == ["index", "point", "status", "Model.ReuseFactor", "multipliers", "agreement", "error", "warnings", "time_s", "worker"]
    assert len(text.splitlines()) == 4
    # a kill in the middle of a line: that line is dropped (and cut off the file)
    with (tmp_path / RESULTS_CSV).open("a") as stream:
        stream.write("0,d,ok,2,12")
    with ResultsStore(tmp_path, ["Model.ReuseFactor"], fingerprint) as store:
        assert store.finished() == {"a", "b"}  # ok and failed are final; error runs again
        store.append(_row("d", multipliers=12, agreement=0.75))
    lines = (tmp_path / RESULTS_CSV).read_text().splitlines()
    assert len(lines) == 5 and lines[-1].startswith("0,d,ok,2,12,0.75,")


def test_store_refuses_other_sweeps_and_foreign_directories(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "out", ["k"], {"base_config": "abc", "data": {"inputs": "1"}}) as store:
        store.append(_row("a"))
    with pytest.raises(SweepError, match=r"holds results of a different sweep \(data changed\)"):
        ResultsStore(tmp_path / "out", ["k"], {"base_config": "abc", "data": {"inputs": "2"}}).__enter__()
    # restart discards the old results
    with ResultsStore(tmp_path / "out", ["k"], {"base_config": "abc", "data": {"inputs": "2"}}, restart=True) as store:
        assert store.finished() == set()
    assert json.loads((tmp_path / "out" / "sweep.json").read_text())["fingerprint"]["data"] == {"inputs": "2"}
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("keep me")
    with pytest.raises(SweepError, match="holds no nnhls sweep"):
        ResultsStore(tmp_path / "mine", ["k"], {}).__enter__()
    (tmp_path / "link").symlink_to(tmp_path / "out")
    with pytest.raises(SweepError, match="symbolic link"):
        ResultsStore(tmp_path / "link", ["k"], {}).__enter__()


def test_one_sweep_per_directory_at_a_time(tmp_path: Path) -> None:
    with ResultsStore(tmp_path, ["k"], {}), pytest.raises(SweepError, match="another sweep is writing"):
        ResultsStore(tmp_path, ["k"], {}).__enter__()
    with ResultsStore(tmp_path, ["k"], {}):  # released when the first one closed
        pass


# ----- Pareto front ------------------------------------------------------------------------------------------


def _brute_force_front(quality: np.ndarray, costs: np.ndarray) -> np.ndarray:
    n = len(quality)
    result = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            no_worse = quality[j] >= quality[i] and np.all(costs[j] <= costs[i])
            better = quality[j] > quality[i] or np.any(costs[j] < costs[i])
            if no_worse and better:
                result[i] = False
    return result


@pytest.mark.parametrize("seed", range(5))
def test_pareto_front_matches_the_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    quality = rng.integers(0, 6, size=60).astype(float)  # ties on purpose
    costs = rng.integers(0, 6, size=(60, 1 + seed % 3)).astype(float)
    assert (pareto_mask(quality, costs) == _brute_force_front(quality, costs)).all()


def test_failures_are_grouped_by_message() -> None:
    pd = pytest.importorskip("pandas")
    from nnhls.compiler.sweep.report import failures, index_ranges

    assert index_ranges([8, 0, 1, 2, 5, 7]) == "0-2, 5, 7-8"
    table = pd.DataFrame(
        {"index": [0, 1, 2, 3, 4], "status": ["failed", "ok", "failed", "error", "failed"], "error": ["bad RF", None, "bad RF", "KilledWorker", "bad RF"]}
    )
    assert failures(table) == ["failed, 3 points 0, 2, 4: bad RF", "error, point 3: KilledWorker"]


def test_pareto_front_small_example() -> None:
    quality = np.array([0.9, 0.95, 0.9, 0.99, 0.5])
    costs = np.array([[100.0], [200.0], [150.0], [400.0], [100.0]])
    assert pareto_mask(quality, costs).tolist() == [True, True, False, True, False]


# ----- the optional extra ------------------------------------------------------------------------------------


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from nnhls.compiler.sweep import run_sweep
    from nnhls.converters import convert_from_config

    monkeypatch.setitem(sys.modules, "dask", None)  # as if Dask were not installed
    spec = load_spec(spec_mapping(axes={"Model.ReuseFactor": [1]}, measure=["estimates"]), output=tmp_path / "o")
    with pytest.raises(MissingExtraError, match=r"nnhls sweep needs dask: install the sweep extra with pip install 'nnhls\[sweep\]'"):
        run_sweep(spec, convert=convert_from_config)


def test_cli_without_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nnhls.tools.nnhls import main

    monkeypatch.setitem(sys.modules, "pandas", None)
    (tmp_path / "sweep.yml").write_text(f"base: {EXAMPLE / 'config.yml'}\naxes: {{Model.ReuseFactor: [1]}}\n")
    assert main(["sweep", str(tmp_path / "sweep.yml"), "-o", str(tmp_path / "out")]) == 2
    assert "nnhls: error: nnhls sweep needs pandas: install the sweep extra with pip install 'nnhls[sweep]'" in capsys.readouterr().err
    assert main(["sweep", "report", str(tmp_path / "out")]) == 2
    assert "nnhls sweep report needs pandas" in capsys.readouterr().err


# ----- hooks: keys a worker applies itself (e.g. a calibration target) ----------------------------------------

SEEN_DATA: list[int] = []


def model_precision_hook(config: dict[str, object], value: object, data: object) -> dict[str, object]:
    """A stand-in for a calibration hook: sets the model precision, records the data it got."""
    from nnhls.compiler.sweep.point import SweepData

    assert isinstance(data, SweepData)
    SEEN_DATA.append(len(data.inputs[0]))
    hls = dict(config["HLSConfig"])  # type: ignore[arg-type]
    hls["Model"] = {**hls["Model"], "Precision": value}
    return {**config, "HLSConfig": hls}


def test_hook_keys_run_on_the_worker_with_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas")
    import nnhls
    from nnhls.compiler.sweep import hooks

    with pytest.raises(SweepError, match=r"unknown sweep key 'Calibration\.Target'"):
        parse_key("Calibration.Target")
    monkeypatch.setitem(hooks.HOOKS, "Test.Precision", f"{__name__}:model_precision_hook")
    SEEN_DATA.clear()
    table = nnhls.sweep(
        spec_mapping(axes={"Test.Precision": ["fixed<10,4>", "fixed<12,5>"]}, measure=["estimates"], data={"samples": 7}),
        output=tmp_path / "out", sequential=True, progress=False,
    )  # fmt: skip
    assert table["status"].tolist() == ["ok", "ok"] and SEEN_DATA == [7, 7]
    for point, ap_type in zip(table["point"], ("ap_fixed<10,4>", "ap_fixed<12,5>"), strict=True):
        assert ap_type in (tmp_path / "out" / "points" / point / "firmware" / "defines.h").read_text()
