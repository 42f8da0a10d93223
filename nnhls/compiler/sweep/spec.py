"""The sweep description: a base config, axes over its keys, explicit points, what to measure.

A sweep file (YAML) or the same mapping in Python:

    base: config.yml                       # an nnhls / hls4ml config (YAML file or inline mapping)
    output: jet_sweep                      # results and per-point projects (default: <name>_sweep)
    axes:                                  # the grid: every combination of these values
      Model.ReuseFactor: [1, 2, 4, 8]
      Model.Strategy: [Latency, Resource]
      LayerName.fc1.Precision.weight: {width: [6, 8, 10], integer: [1]}   # fixed<6,1> ...
      IOType: [io_parallel, io_stream]
    points:                                # explicit points, run after the grid
      - {Model.ReuseFactor: 3, Model.Strategy: Resource}
    measure: [estimates, accuracy]         # conversion always; also `build` (vendor synthesis)
    data: {inputs: x.npy, reference: y_float.npy, labels: y_true.npy, samples: 1000}
    build: {csim: false, synth: true}      # build() flags when `build` is measured
    emulator: numpy                        # accuracy on the numpy emulator (default) or the g++ build (cpp)

Keys name any config key: top level (`IOType`, `ClockPeriod`, `Part`, `Backend`,
`WriterConfig.Namespace`, ...), `Model.<key>`, `LayerType.<type>.<key>` and
`LayerName.<layer>.<key>` (an `HLSConfig.` prefix is accepted), with `.Precision.<variable>` for one
precision variable (at Model level `Precision.default` is the model default), and the keys of
hooks (hooks.py: settings a worker applies itself). A layer name may contain dots: the key and
variable are read from the end. Setting `Precision` itself replaces
the whole entry. Values are lists, numeric ranges `{start, stop[, step]}` (stop included),
geometric ranges `{start, stop, factor}`, or precision grids `{width, integer[, signed]}` whose
fields are lists or ranges; a scalar is one value. Relative paths in the file (base, output,
data, model files given as values) are relative to the file's folder, as in nnhls config YAML.

A point is identified by the hash of its settings (`Point.id`), so points keep their identity
when axes are extended and a rerun skips the points already finished.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnhls.compiler.sweep.errors import SweepError

MEASUREMENTS: tuple[str, ...] = ("convert", "estimates", "accuracy", "build")
"""What a point can measure; conversion always runs."""
DEFAULT_MEASURE: tuple[str, ...] = ("convert", "estimates", "accuracy")
BUILD_FLAGS: tuple[str, ...] = ("csim", "synth", "cosim", "export", "vsynth")
EMULATORS: tuple[str, ...] = ("numpy", "cpp")
DEFAULT_EMULATOR = "numpy"
"""Accuracy on the numpy emulator by default: it gives the same bits as the g++ build (the test
suite checks it layer by layer and a sweep test column by column), needs no compiler on the
workers, and spends a fraction of the time of a cold g++ build on each point (the sweep's points
differ in precisions and reuse factors, so every point is a new build the cache cannot share).
`emulator: cpp` measures on the g++ build of each point's C++ instead."""
SPEC_KEYS: tuple[str, ...] = ("name", "base", "output", "axes", "points", "measure", "data", "build", "emulator")
DATA_KEYS: tuple[str, ...] = ("inputs", "reference", "labels", "samples")
HOOK = "<hook>"
"""First element of the path of a key that a hook applies (hooks.py), not a config key."""
MAX_POINTS = 100_000
"""A bound on the expanded grid (a typo such as a range step of 0.0001 must not exhaust memory)."""

_SECTIONS = ("Model", "LayerType", "LayerName")
_PATH_VALUE_KEYS = ("KerasJson", "KerasH5", "KerasModel", "OnnxModel", "PytorchModel", "InputData", "OutputPredictions")
_FORBIDDEN_KEYS = {
    "OutputDir": "every point writes its project into its own directory of the sweep output",
    "HLSConfig": "sweep individual keys (Model.<key>, LayerType.<type>.<key>, LayerName.<layer>.<key>)",
}


# ----- keys -------------------------------------------------------------------------------------------------


def _config_keys() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(top-level keys, Model keys, layer keys, precision variables) of the config model."""
    from nnhls.config import (
        MODEL_KEYS,
        TOP_LEVEL_KEYS,
        WRITER_KEYS,
        _all_precision_vars,  # pyright: ignore[reportPrivateUsage]
        all_layer_keys,
    )

    top = tuple(k for k in TOP_LEVEL_KEYS if k not in _FORBIDDEN_KEYS) + tuple(f"WriterConfig.{k}" for k in WRITER_KEYS)
    return top, MODEL_KEYS, all_layer_keys(), _all_precision_vars()


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    from nnhls.config import did_you_mean

    return did_you_mean(word, choices)


def parse_key(key: str) -> tuple[str, ...]:
    """The path of a sweep key in the full config, e.g. 'LayerName.fc1.Precision.weight' ->
    ('HLSConfig', 'LayerName', 'fc1', 'Precision', 'weight'); SweepError for an unknown key."""
    if not isinstance(key, str) or not key.strip():  # pyright: ignore[reportUnnecessaryIsInstance]
        raise SweepError(f"sweep key {key!r} must be a non-empty string such as 'Model.ReuseFactor'")
    from nnhls.compiler.sweep.hooks import HOOKS

    if key in HOOKS:
        return (HOOK, key)
    top, model_keys, layer_keys, variables = _config_keys()
    parts = key.removeprefix("HLSConfig.").split(".")
    head = parts[0]
    if head in _FORBIDDEN_KEYS and len(parts) == 1:
        raise SweepError(f"sweep key '{key}' cannot be swept: {_FORBIDDEN_KEYS[head]}")
    if head == "Model":
        return _model_path(key, parts[1:], model_keys, variables)
    if head in ("LayerType", "LayerName"):
        return _layer_path(key, head, parts[1:], layer_keys, variables)
    if key in top:
        return tuple(parts)
    valid = [*top, "Model.<key>", "LayerType.<type>.<key>", "LayerName.<layer>.<key>"]
    raise SweepError(f"unknown sweep key '{key}'{_did_you_mean(key, [*top, *_SECTIONS])}; valid: {', '.join(valid)}")


def _model_path(key: str, rest: list[str], model_keys: Sequence[str], variables: Sequence[str]) -> tuple[str, ...]:
    if not rest or rest[0] not in model_keys:
        name = rest[0] if rest else ""
        raise SweepError(f"sweep key '{key}': unknown Model key '{name}'{_did_you_mean(name, model_keys)}; valid: {', '.join(model_keys)}")
    if len(rest) == 1:
        return ("HLSConfig", "Model", rest[0])
    model_vars = ("default", "maximum", *variables)
    if rest[0] == "Precision" and len(rest) == 2 and rest[1] in model_vars:
        return ("HLSConfig", "Model", "Precision", rest[1])
    raise SweepError(f"sweep key '{key}': expected Model.<key> or Model.Precision.<variable> (variables: {', '.join(model_vars)})")


def _layer_path(key: str, section: str, rest: list[str], layer_keys: Sequence[str], variables: Sequence[str]) -> tuple[str, ...]:
    what = "type" if section == "LayerType" else "layer"
    if len(rest) >= 3 and rest[-2] == "Precision":
        name, setting = ".".join(rest[:-2]), ("Precision", rest[-1])
        if rest[-1] not in variables:
            raise SweepError(f"sweep key '{key}': unknown precision variable '{rest[-1]}'{_did_you_mean(rest[-1], variables)}; variables: {', '.join(variables)}")
    elif len(rest) >= 2:
        name, setting = ".".join(rest[:-1]), (rest[-1],)
        if rest[-1] not in layer_keys:
            raise SweepError(f"sweep key '{key}': unknown layer key '{rest[-1]}'{_did_you_mean(rest[-1], layer_keys)}; valid: {', '.join(layer_keys)}")
    else:
        raise SweepError(f"sweep key '{key}': expected {section}.<{what}>.<key> (e.g. {section}.{'Dense' if what == 'type' else 'fc1'}.ReuseFactor)")
    return ("HLSConfig", section, name, *setting)


# ----- values -----------------------------------------------------------------------------------------------


def expand_values(key: str, spec: Any) -> tuple[Any, ...]:
    """The values of one axis: a list, a range, a geometric range, a precision grid or a scalar."""
    if isinstance(spec, list | tuple):
        values = tuple(_scalar(key, v) for v in spec)  # pyright: ignore[reportUnknownVariableType]
    elif isinstance(spec, Mapping):
        values = _grid_values(key, spec)  # pyright: ignore[reportUnknownArgumentType]
    else:
        values = (_scalar(key, spec),)
    if not values:
        raise SweepError(f"sweep axis '{key}' has no values")
    return values


def _scalar(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, float) and not math.isfinite(value):
            raise SweepError(f"sweep axis '{key}': {value!r} is not a finite number")
        if isinstance(value, str) and value.count("<") != value.count(">"):
            # YAML splits `[fixed<8,3>, fixed<10,4>]` at the commas inside the brackets
            raise SweepError(
                f"sweep axis '{key}': {value!r} is a precision cut at a comma: quote each precision in a "
                "YAML list (['fixed<8,3>', 'fixed<10,4>']) or use a grid {width: [8, 10], integer: [3]}"
            )
        return value
    raise SweepError(f"sweep axis '{key}': values must be numbers, strings or booleans, got {value!r}")


def _grid_values(key: str, spec: Mapping[str, Any]) -> tuple[Any, ...]:
    fields = set(spec)
    if fields <= {"width", "integer", "signed"} and {"width", "integer"} <= fields:
        return _precision_grid(key, spec)
    if fields <= {"start", "stop", "step", "factor"} and {"start", "stop"} <= fields:
        return _range(key, spec)
    raise SweepError(
        f"sweep axis '{key}': a mapping must be a range {{start, stop[, step]}}, a geometric range "
        f"{{start, stop, factor}} or a precision grid {{width, integer[, signed]}}, got keys {sorted(map(str, fields))}"
    )


def _number(key: str, name: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SweepError(f"sweep axis '{key}': {name} must be a finite number, got {value!r}")
    return value


def _range(key: str, spec: Mapping[str, Any]) -> tuple[int | float, ...]:
    start, stop = _number(key, "start", spec["start"]), _number(key, "stop", spec["stop"])
    if "step" in spec and "factor" in spec:
        raise SweepError(f"sweep axis '{key}': give step or factor, not both")
    values: list[int | float] = []
    if "factor" in spec:
        factor = _number(key, "factor", spec["factor"])
        if factor <= 1 or start <= 0:
            raise SweepError(f"sweep axis '{key}': a geometric range needs start > 0 and factor > 1")
        value = start
        while value <= stop and len(values) <= MAX_POINTS:
            values.append(value)
            value = value * factor
    else:
        step = _number(key, "step", spec.get("step", 1))
        if step <= 0:
            raise SweepError(f"sweep axis '{key}': step must be positive, got {step!r}")
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_POINTS:
            raise SweepError(f"sweep axis '{key}': {count} values exceed the limit of {MAX_POINTS}")
        values = [start + i * step for i in range(max(count, 0))]
    if len(values) > MAX_POINTS:
        raise SweepError(f"sweep axis '{key}': more than {MAX_POINTS} values")
    integral = all(isinstance(spec.get(k, 1), int) for k in ("start", "step", "factor"))
    return tuple(int(v) if integral else float(v) for v in values)


def _precision_grid(key: str, spec: Mapping[str, Any]) -> tuple[str, ...]:
    widths = expand_values(f"{key}.width", spec["width"])
    integers = expand_values(f"{key}.integer", spec["integer"])
    signed = spec.get("signed", True)
    if not isinstance(signed, bool):
        raise SweepError(f"sweep axis '{key}': signed must be true or false, got {signed!r}")
    for value in (*widths, *integers):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SweepError(f"sweep axis '{key}': precision widths and integer bits must be integers, got {value!r}")
    kind = "fixed" if signed else "ufixed"
    return tuple(f"{kind}<{w},{i}>" for w in widths for i in integers)


# ----- the spec ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    key: str
    """The key as written (also the results column)."""
    path: tuple[str, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Point:
    index: int
    """Position in the sweep (grid first, then explicit points)."""
    settings: tuple[tuple[str, Any], ...]
    """(key, value) pairs, in axis order."""

    @property
    def id(self) -> str:
        """12 hex digits identifying the settings (the results row and the project directory)."""
        text = json.dumps([[k, v] for k, v in self.settings], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class DataSpec:
    inputs: Path | None = None
    reference: Path | None = None
    """Float model outputs for `inputs`; without it the nn reference interpreter computes them."""
    labels: Path | None = None
    samples: int | None = None


@dataclass
class SweepSpec:
    name: str
    base: dict[str, Any]
    """The full config every point starts from (relative paths resolved)."""
    output: Path
    axes: tuple[Axis, ...]
    points: tuple[Point, ...]
    keys: tuple[str, ...]
    """Every swept key, in column order."""
    paths: dict[str, tuple[str, ...]]
    measure: tuple[str, ...] = DEFAULT_MEASURE
    data: DataSpec = field(default_factory=DataSpec)
    build: dict[str, bool] = field(default_factory=lambda: {"csim": False, "synth": True})
    emulator: str = DEFAULT_EMULATOR

    def point_config(self, point: Point, output_dir: Path) -> dict[str, Any]:
        """The full config of one point, its project written into `output_dir`."""
        config = json.loads(json.dumps(self.base))
        for key, value in point.settings:
            if self.paths[key][0] != HOOK:
                apply_setting(config, self.paths[key], value, key)
        config["OutputDir"] = str(output_dir)
        return config

    def hook_settings(self, point: Point) -> tuple[tuple[str, Any], ...]:
        """The point's settings that hooks apply on the worker (hooks.py)."""
        return tuple((k, v) for k, v in point.settings if self.paths[k][0] == HOOK)


def apply_setting(config: dict[str, Any], path: Sequence[str], value: Any, key: str) -> None:
    """Set one key in a (copied) config, creating sections on the way.

    One precision variable inside a Precision given as one string: at Model level the string
    becomes `default`; at layer level it cannot be split without the model, so it is an error.
    """
    node: dict[str, Any] = config
    for depth, part in enumerate(path[:-1]):
        child: Any = node.get(part)
        if child is None:
            child = node[part] = {}
        elif isinstance(child, str) and part == "Precision" and path[1] == "Model":
            child = node[part] = {"default": child}
        elif not isinstance(child, dict):
            where = ".".join(path[: depth + 1])
            raise SweepError(
                f"sweep key '{key}': the base config sets {where} to {child!r}; give it per variable "
                f"(e.g. {where}: {{result: {child}, weight: ...}}) to sweep one variable"
            )
        node = child  # pyright: ignore[reportUnknownVariableType]
    node[path[-1]] = value


def _as_mapping(where: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SweepError(f"{where} must be a mapping, got {type(value).__name__}")
    return value  # pyright: ignore[reportUnknownVariableType]


def _check_keys(where: str, mapping: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for key in mapping:
        if key not in allowed:
            raise SweepError(f"{where}: unknown key '{key}'{_did_you_mean(str(key), allowed)}; valid: {', '.join(allowed)}")


def _path(value: Any, folder: Path, what: str) -> Path:
    if not isinstance(value, str | Path) or not str(value):
        raise SweepError(f"{what} must be a file path, got {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else folder / path


ConfigReader = Callable[[Path], dict[str, Any]]
"""A config YAML file -> the config with its relative paths resolved (the API layer's
`nnhls.converters.load_yaml`, given to the driver rather than imported from above it)."""


def load_spec(source: str | Path | Mapping[str, Any], *, read_config: ConfigReader, **overrides: Any) -> SweepSpec:
    """A SweepSpec from a sweep YAML file or mapping; `overrides` replace top-level spec keys
    (e.g. output=...). Relative paths in a file are relative to its folder; in a mapping, to the
    working directory. `read_config` reads the base config when it is a file."""
    if isinstance(source, str | Path):
        file = Path(source)
        raw = _read_yaml(file)
        folder, default_name = file.resolve().parent, file.stem
    else:
        raw, folder, default_name = dict(_as_mapping("sweep", source)), Path.cwd(), "sweep"
    given = {k: v for k, v in overrides.items() if v is not None}
    spec: dict[str, Any] = {**raw, **given}
    _check_keys("sweep", spec, SPEC_KEYS)
    name = _name(spec.get("name") or default_name)
    base = _base_config(spec.get("base"), folder, read_config)
    # an explicit output override is relative to the working directory, as a command-line path
    output_folder = Path.cwd() if "output" in given else folder
    output = _path(spec["output"], output_folder, "output") if spec.get("output") else Path.cwd() / f"{name}_sweep"
    axes = _axes(spec.get("axes"), folder)
    points = _points(axes, spec.get("points"), folder)
    keys = tuple(dict.fromkeys([a.key for a in axes] + [k for p in points for k, _ in p.settings]))
    paths = {k: parse_key(k) for k in keys}
    measure = _measure(spec.get("measure"))
    result = SweepSpec(
        name=name, base=base, output=output, axes=axes, points=points, keys=keys, paths=paths,
        measure=measure, data=_data(spec.get("data"), base, folder), build=_build(spec.get("build")),
        emulator=_emulator(spec.get("emulator", DEFAULT_EMULATOR)),
    )  # fmt: skip
    for point in points:  # structural conflicts with the base config fail before anything runs
        result.point_config(point, output)
    if "accuracy" in measure and result.data.inputs is None:
        raise SweepError("measuring accuracy needs data: give data.inputs (or InputData in the base config), or drop 'accuracy' from measure")
    return result


def _name(value: Any) -> str:
    """The sweep's name (the default output directory is <name>_sweep): a plain file name."""
    name = str(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,100}", name):
        raise SweepError(f"sweep name {name!r} must be letters, digits, '_', '-' or '.' (it names the output directory)")
    return name


def _read_yaml(file: Path) -> dict[str, Any]:
    import yaml

    if not file.is_file():
        raise SweepError(f"sweep file '{file}' not found")
    try:
        data = yaml.safe_load(file.read_text())
    except yaml.YAMLError as error:
        raise SweepError(f"cannot read sweep YAML '{file}': {' '.join(str(error).split())}") from None
    return dict(_as_mapping(f"sweep file '{file}'", data))


def _base_config(value: Any, folder: Path, read_config: ConfigReader) -> dict[str, Any]:
    """The base config with its paths resolved; only plain data (workers receive a copy)."""
    if value is None:
        raise SweepError("the sweep needs a base config: base: config.yml (or an inline mapping)")
    if isinstance(value, str | Path):
        config = read_config(_path(value, folder, "base"))
    else:
        config = dict(_as_mapping("base", value))
        for key in _PATH_VALUE_KEYS:
            if isinstance(config.get(key), str):
                config[key] = str(_path(config[key], folder, key))
    try:
        plain = json.loads(json.dumps(config))
    except (TypeError, ValueError):
        raise SweepError(
            "the base config must be plain data (workers load the model from its file): save an in-memory model and give its path"
        ) from None
    return plain


def _axes(value: Any, folder: Path) -> tuple[Axis, ...]:
    axes: list[Axis] = []
    if isinstance(value, list):  # [{key: ..., values: ...}] also allows keys YAML cannot spell as mapping keys
        for i, entry in enumerate(value):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
            item = _as_mapping(f"axes[{i}]", entry)
            _check_keys(f"axes[{i}]", item, ("key", "values"))
            if "key" not in item or "values" not in item:
                raise SweepError(f"axes[{i}] needs 'key' and 'values'")
            axes.append(_axis(str(item["key"]), item["values"], folder))
    else:
        for key, values in _as_mapping("axes", value).items():
            axes.append(_axis(str(key), values, folder))
    if len({a.key for a in axes}) != len(axes):
        raise SweepError("a sweep key appears twice in axes")
    return tuple(axes)


def _axis(key: str, values: Any, folder: Path) -> Axis:
    path = parse_key(key)
    expanded = expand_values(key, values)
    if path[-1] in _PATH_VALUE_KEYS:
        expanded = tuple(str(_path(v, folder, key)) for v in expanded)
    return Axis(key, path, expanded)


def _points(axes: Sequence[Axis], value: Any, folder: Path) -> tuple[Point, ...]:
    grid = [tuple(zip([a.key for a in axes], combo, strict=True)) for combo in itertools.product(*(a.values for a in axes))] if axes else []
    if len(grid) > MAX_POINTS:
        raise SweepError(f"the grid has {len(grid)} points, more than the limit of {MAX_POINTS}")
    explicit: list[tuple[tuple[str, Any], ...]] = []
    if value is not None:
        if not isinstance(value, list):
            raise SweepError("points must be a list of mappings {key: value}")
        for i, entry in enumerate(value):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
            settings: list[tuple[str, Any]] = []
            for key, v in _as_mapping(f"points[{i}]", entry).items():
                parse_key(str(key))
                scalar = _scalar(str(key), v)
                if str(key).split(".")[-1] in _PATH_VALUE_KEYS and isinstance(scalar, str):
                    scalar = str(_path(scalar, folder, str(key)))
                settings.append((str(key), scalar))
            explicit.append(tuple(settings))
    combos = grid + explicit
    if not combos:
        raise SweepError("the sweep has no points: give axes and/or points")
    unique = list(dict.fromkeys(combos))  # a duplicate point runs once
    return tuple(Point(i, settings) for i, settings in enumerate(unique))


def _measure(value: Any) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_MEASURE
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise SweepError(f"measure must be a list of {', '.join(MEASUREMENTS)}")
    for item in items:  # pyright: ignore[reportUnknownVariableType]
        if item not in MEASUREMENTS:
            raise SweepError(f"measure: unknown measurement {item!r}{_did_you_mean(str(item), MEASUREMENTS)}; valid: {', '.join(MEASUREMENTS)}")  # pyright: ignore[reportUnknownArgumentType]
    return tuple(m for m in MEASUREMENTS if m == "convert" or m in items)


def _data(value: Any, base: Mapping[str, Any], folder: Path) -> DataSpec:
    data = _as_mapping("data", value)
    _check_keys("data", data, DATA_KEYS)
    inputs = _path(data["inputs"], folder, "data.inputs") if data.get("inputs") else None
    reference = _path(data["reference"], folder, "data.reference") if data.get("reference") else None
    if inputs is None and isinstance(base.get("InputData"), str):
        inputs = Path(base["InputData"])
        if reference is None and isinstance(base.get("OutputPredictions"), str):
            reference = Path(base["OutputPredictions"])
    labels = _path(data["labels"], folder, "data.labels") if data.get("labels") else None
    samples = data.get("samples")
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        raise SweepError(f"data.samples must be a positive integer, got {samples!r}")
    return DataSpec(inputs, reference, labels, samples)


def _build(value: Any) -> dict[str, bool]:
    flags = _as_mapping("build", value)
    _check_keys("build", flags, BUILD_FLAGS)
    result = {"csim": False, "synth": True}
    for key, flag in flags.items():
        if not isinstance(flag, bool):
            raise SweepError(f"build.{key} must be true or false, got {flag!r}")
        result[key] = flag
    return result


def _emulator(value: Any) -> str:
    if value not in EMULATORS:
        raise SweepError(f"emulator must be one of {', '.join(EMULATORS)}, got {value!r}")
    return str(value)
