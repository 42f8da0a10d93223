"""`nnhls`: the command-line driver, shaped after hls4ml's (config, convert, build, report).

    nnhls convert --example                      # the whole job on the bundled jet tagger
    nnhls config model.keras > config.yml        # a starting YAML to edit
    nnhls convert config.yml                     # YAML -> project (writes OutputDir)
    nnhls convert model.onnx --io-type io_stream --precision 'fixed<18,8>' -o prj
    nnhls compile prj                            # g++ emulation library
    nnhls predict prj -i x.npy -o y.npy          # run it (or --emulator numpy)
    nnhls build prj --csim --synth               # Vitis HLS / Vivado HLS, when installed
    nnhls report prj                             # per-layer types, reuse, estimates, synthesis
    nnhls sweep sweep.yml                        # design-space sweep on Dask (nnhls sweep report DIR)

Every user mistake prints one line `nnhls: error: ...` and exits with code 2; `--debug` shows
the Python traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from nnhls import __version__
from nnhls.errors import UserError, format_warning

EXIT_USER_ERROR = 2
EXAMPLE_DIR = Path(__file__).resolve().parent.parent.parent / "examples" / "jet_tagger"


class CLIError(UserError):
    """A user mistake in the command line, reported as one line."""


# ----- output -------------------------------------------------------------------------------------------


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@contextmanager
def step(message: str) -> Iterator[None]:
    """Show a spinner while a step runs, then one line with its duration."""
    console = _console()
    start = time.perf_counter()
    with console.status(message):
        yield
    console.print(f"[green]done[/green] {message} ({time.perf_counter() - start:.2f} s)")


def _error_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


# ----- model and config loading ---------------------------------------------------------------------------


KERAS_SUFFIXES = (".keras", ".h5", ".json")
TORCH_SUFFIXES = (".pt", ".pt2", ".pth")


def _require_file(path: str | Path) -> Path:
    file = Path(path)
    if not file.is_file():
        raise CLIError(f"no such file: {path}")
    return file


def _model_key(model: Path) -> str:
    suffix = model.suffix.lower()
    if suffix == ".keras":
        return "KerasModel"
    if suffix in (".h5", ".json"):
        return "KerasJson" if suffix == ".json" else "KerasH5"
    if suffix == ".onnx":
        return "OnnxModel"
    if suffix in TORCH_SUFFIXES:
        return "PytorchModel"
    raise CLIError(
        f"cannot tell the framework of '{model}': expected .keras, .h5, .json (+ --weights), .onnx or a TorchScript .pt"
    )


def _starting_config(args: argparse.Namespace, model: Path) -> dict[str, Any]:
    """The config `nnhls config` prints: backend defaults, the model's paths and its HLSConfig."""
    from nnhls import utils
    from nnhls.backends import get_backend

    key = _model_key(model)
    config: dict[str, Any] = get_backend(args.backend).create_initial_config(
        part=args.part, clock_period=args.clock_period, io_type=args.io_type or "io_parallel"
    )
    config["OutputDir"] = args.output or f"{_c_identifier(model.stem)}_prj"
    config["ProjectName"] = args.project_name or _c_identifier(model.stem)
    yaml_file = getattr(args, "output_file", None)
    config[key] = _written_path(model, yaml_file)
    if key == "KerasJson":
        if args.weights is None:
            raise CLIError("a Keras model JSON needs its weights: add --weights model_weights.h5")
        config["KerasH5"] = _written_path(_require_file(args.weights), yaml_file)
    common = {
        "granularity": args.granularity,
        "backend": args.backend,
        "default_precision": args.precision,
        "default_reuse_factor": args.reuse_factor,
        "max_precision": args.max_precision,
    }
    data = getattr(args, "data", None)
    if data:
        arrays = [_load_array(path) for path in data]
        common |= {
            "calibration_data": arrays if len(arrays) > 1 else arrays[0],
            "target": args.target_accuracy,
            "margin": args.margin,
            "calibration_plot": args.calibration_plot,
        }
    if key == "OnnxModel":
        config["HLSConfig"] = utils.config_from_onnx_model(str(model), **common)
    elif key == "PytorchModel":
        if args.input_shape is None:
            raise CLIError("a PyTorch model needs --input-shape, e.g. --input-shape 3,32,32")
        shape = tuple(int(d) for d in args.input_shape.split(","))
        config["InputShape"] = list(shape)
        config["HLSConfig"] = utils.config_from_pytorch_model(str(model), shape, **common)
    else:
        weights = config.get("KerasH5") if key == "KerasJson" else None
        config["HLSConfig"] = utils.config_from_keras_model(
            str(model) if weights is None else (str(model), weights), **common
        )
    if args.strategy is not None:
        config["HLSConfig"]["Model"]["Strategy"] = args.strategy
    return config


def _written_path(file: Path, yaml_file: str | None) -> str:
    """How `nnhls config` writes a model path into the YAML: tagged `!relative` to the YAML's
    folder when it writes the file itself (the YAML then works wherever it moves together with
    the model), absolute when it prints to stdout (it cannot know where the YAML will live)."""
    from nnhls.config import RelativePath

    if yaml_file is None:
        return str(file.resolve())
    return RelativePath(os.path.relpath(file.resolve(), Path(yaml_file).resolve().parent))


def _c_identifier(text: str) -> str:
    from nnhls.quoting import cpp_identifier

    return cpp_identifier(text, fallback="model")


def _load_config(args: argparse.Namespace) -> dict[str, Any]:
    """The full config for `convert`: from a YAML file, the bundled example, or a model file.
    Relative paths are relative to the working directory (hls4ml's rule), except YAML values
    tagged `!relative`, which are relative to the YAML's folder (see nnhls.config.RelativePath)."""
    from nnhls.config import load_yaml_text, resolve_paths

    if args.example:
        path = EXAMPLE_DIR / "config.yml"
        if not path.is_file():
            raise CLIError(
                f"the bundled example is not at {EXAMPLE_DIR}: it ships with the source checkout "
                "(install it with `pip install -e .` from a clone)"
            )
        source = path
    elif args.source is None:
        raise CLIError("give a CONFIG.yml or a model file to convert (or --example)")
    else:
        source = _require_file(args.source)
    if source.suffix.lower() not in (".yml", ".yaml"):
        return _starting_config(args, source)
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CLIError(f"cannot read '{source}': {error}") from None
    config = load_yaml_text(text, f"'{source}'")
    if not isinstance(config, dict):
        raise CLIError(f"'{source}' does not hold a configuration mapping")
    if args.output:
        config["OutputDir"] = args.output
    return resolve_paths(config, source.parent)


def _load_array(path: str | Path) -> np.ndarray:
    """A .npy file (never unpickled) or a text file of whitespace-separated numbers."""
    import warnings

    file = _require_file(path)
    if file.suffix == ".npy":
        try:
            return np.load(file, allow_pickle=False)
        except ValueError as error:
            if "allow_pickle" in str(error):
                raise CLIError(f"'{file}' holds Python objects (a pickle), which nnhls does not load: save a numeric array") from None
            raise CLIError(f"cannot read '{file}' as a .npy array: {_error_line(error)}") from None
        except (OSError, EOFError) as error:
            raise CLIError(f"cannot read '{file}' as a .npy array: {_error_line(error)}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's "empty input file" warning: an error below
            data = np.loadtxt(file, dtype=np.float64, ndmin=2)
    except (ValueError, UnicodeDecodeError) as error:
        raise CLIError(f"cannot read '{file}' as whitespace-separated numbers: {_error_line(error)}") from None
    if data.size == 0:
        raise CLIError(f"'{file}' holds no numbers")
    return data


def _shape_text_rows(model: Any, arrays: list[np.ndarray], paths: Sequence[str | Path]) -> list[np.ndarray]:
    """Text files hold one flattened sample per line (as tb_data): give them the input shapes."""
    shaped: list[np.ndarray] = []
    inputs = model.firmware.inputs
    for k, (a, path) in enumerate(zip(arrays, paths, strict=False)):
        if k < len(inputs) and Path(path).suffix != ".npy" and a.ndim == 2 and a.shape[1] == inputs[k].size:
            a = a.reshape(len(a), *inputs[k].shape)
        shaped.append(a)
    return shaped


# ----- subcommands ----------------------------------------------------------------------------------------


def cmd_config(args: argparse.Namespace) -> int:
    from nnhls.config import config_to_yaml

    model = _require_file(args.model)
    config = _starting_config(args, model)
    text = config_to_yaml(config)
    if args.output_file:
        Path(args.output_file).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from nnhls.converters import convert_from_config

    config = _load_config(args)
    if args.io_type is not None:
        config["IOType"] = args.io_type
    if args.source is not None and Path(args.source).suffix.lower() in (".yml", ".yaml"):
        _override_model_defaults(config, args)
    with step("importing and compiling the model"):
        model = convert_from_config(config, pipeline=args.pipeline)
    if args.dump_ir is not None:
        sys.stdout.write(str(model.ir(args.dump_ir)) + "\n")
        return 0
    with step(f"writing the project to {model.output_dir}"):
        model.write(force=args.force)
    if args.example or args.run:
        _run_example(model, config)
    else:
        _console().print(f"project written to [bold]{model.output_dir}[/bold]")
    return 0


def _override_model_defaults(config: dict[str, Any], args: argparse.Namespace) -> None:
    model_cfg = config.setdefault("HLSConfig", {}).setdefault("Model", {})
    if args.precision_given:
        model_cfg["Precision"] = args.precision
    if args.reuse_factor_given:
        model_cfg["ReuseFactor"] = args.reuse_factor
    if args.strategy is not None:
        model_cfg["Strategy"] = args.strategy


def _run_example(model: Any, config: dict[str, Any]) -> None:
    """Build the emulation library, predict the sample inputs and summarise against float."""
    if not config.get("InputData"):
        raise CLIError("--run predicts the config's InputData, and this config has none: add InputData (a .npy or text file of samples) or run nnhls predict")
    inputs = _shape_text_rows(model, [_load_array(config["InputData"]).astype(np.float32)], [config["InputData"]])[0]
    with step("building the C++ emulation library (g++)"):
        model.compile()
    with step(f"predicting {len(inputs)} samples"):
        outputs = np.asarray(model.predict(inputs))
    console = _console()
    console.print(f"project: [bold]{model.output_dir}[/bold]")
    if config.get("OutputPredictions"):
        reference = _load_array(config["OutputPredictions"]).reshape(outputs.shape)
        agreement = float(np.mean(np.argmax(outputs, axis=-1) == np.argmax(reference, axis=-1)))
        diff = float(np.max(np.abs(outputs - reference)))
        console.print(f"argmax agreement with the float model: [bold]{agreement:.1%}[/bold] (max abs diff {diff:.4f})")
    console.print("first outputs:")
    for row in outputs[:3]:
        console.print("  " + " ".join(f"{v:.4f}" for v in np.ravel(row)))


def _link(directory: str) -> Any:
    from nnhls.compiler.hls_model import link_existing_project

    path = Path(directory)
    if not path.is_dir():
        raise CLIError(f"no such project directory: {directory}")
    return link_existing_project(path)


def cmd_compile(args: argparse.Namespace) -> int:
    model = _link(args.project)
    with step("building the C++ emulation library (g++)"):
        model.compile()
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    model = _link(args.project)
    inputs = _shape_text_rows(model, [_load_array(path) for path in args.input], args.input)
    if args.emulator == "cpp":
        with step("building the C++ emulation library (g++)"):
            model.compile()
    with step(f"predicting {len(inputs[0])} samples with the {args.emulator} emulator"):
        outputs = model.predict(inputs[0] if len(inputs) == 1 else inputs, emulator=args.emulator)
    _save_outputs(args.output, outputs if isinstance(outputs, list) else [outputs])
    return 0


def _save_outputs(path: str, outputs: list[np.ndarray]) -> None:
    """One output: .npy or text; several: an .npz with output_0, output_1, ..."""
    if len(outputs) > 1:
        if not path.endswith(".npz"):
            raise CLIError(f"the model has {len(outputs)} outputs: give -o OUT.npz (arrays output_0 .. output_{len(outputs) - 1})")
        arrays: dict[str, Any] = {f"output_{i}": out for i, out in enumerate(outputs)}
        np.savez(path, allow_pickle=False, **arrays)
        return
    result = np.asarray(outputs[0])
    if path.endswith(".npy"):
        np.save(path, result)
    else:
        np.savetxt(path, result.reshape(len(result), -1), fmt="%.9g")


def cmd_build(args: argparse.Namespace) -> int:
    model = _link(args.project)
    flags = {name: getattr(args, name) for name in ("csim", "synth", "cosim", "export", "vsynth")}
    if not any(flags.values()):
        flags.update(csim=True, synth=True)
    with step("running the HLS tool"):
        report = model.build(**flags)
    _console().print(report)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    model = _link(args.project)
    columns = {
        "layer": "layer", "op": "op", "input": "input", "output": "output", "result": "result",
        "types": "weight / accum / table", "reuse_factor": "RF", "strategy": "strategy",
        "multipliers": "mults", "latency": "latency", "ii": "II", "bops": "BOPs",
    }  # fmt: skip
    table = Table(title=f"{model.project_name}: per-layer report (estimates)")
    for title in columns.values():
        table.add_column(title, overflow="fold")
    for row in model.layer_report():
        table.add_row(*[str(row.get(key, "")) for key in columns])
    totals = model.estimates()
    table.add_section()
    table.add_row("model total", *[str(totals.get(key, "")) for key in list(columns)[1:]])
    # Reports are read in terminals and in CI logs alike: never squeeze the table below 160 columns.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    console.print(table)
    if args.plots and not args.data:
        raise CLIError("--plots draws the layers' values on data: add --data x.npy")
    if args.data:
        _print_overflow_report(console, model, args.data)
    if args.plots:
        from nnhls.model.profiling import save_plots

        inputs = _shape_text_rows(model, [_load_array(path) for path in args.data], args.data)
        written = save_plots(model, inputs[0] if len(inputs) == 1 else inputs, args.plots)
        console.print("profiling plots: " + ", ".join(str(p) for p in written))
    synthesis = model.read_report(missing_ok=True)
    if not synthesis:
        console.print("no synthesis report yet (run `nnhls build --synth` where Vitis HLS is installed)")
        return 0
    console.print("synthesis report:")
    for key, value in synthesis.items():
        console.print(f"  {key}: {value}")
    return 0


def _print_overflow_report(console: Any, model: Any, paths: Sequence[str]) -> None:
    """The overflow report of the model on the data files (one per model input)."""
    from rich.table import Table

    inputs = _shape_text_rows(model, [_load_array(path) for path in paths], paths)
    rows = model.overflow_report(inputs[0] if len(inputs) == 1 else inputs)
    table = Table(title=f"{model.project_name}: overflow report on {len(inputs[0])} samples")
    columns = {
        "layer": "layer", "var": "variable", "type": "type", "overflows": "overflows", "checked": "of",
        "mode": "", "observed": "observed range", "range": "type range", "excess": "beyond by",
        "proposed_integer_bits": "integer bits needed",
    }  # fmt: skip
    for title in columns.values():
        table.add_column(title, overflow="fold")
    for row in rows:
        table.add_row(*[f"{row[key]:g}" if key == "excess" else str(row[key]) for key in columns])
    console.print(table)
    bad = sorted({row["layer"] for row in rows if row["overflows"] and not row["by_design"]})
    designed = sorted({row["layer"] for row in rows if row["overflows"] and row["by_design"]})
    if bad:
        console.print(f"values saturated or wrapped in: {', '.join(bad)}")
    else:
        console.print("no value saturated or wrapped")
    if designed:
        console.print(f"saturated or wrapped by their quantizers (by design, not overflows): {', '.join(designed)}")


# ----- argument parsing ----------------------------------------------------------------------------------


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", help="weights .h5 of a Keras model JSON (the YAML's KerasH5)")
    parser.add_argument("--input-shape", help="PyTorch input shape without batch, e.g. 3,32,32")
    parser.add_argument("--granularity", default="name", choices=["model", "type", "name"])
    parser.add_argument("--backend", default="Vitis", choices=["Vitis", "Vivado"])
    parser.add_argument("--part", default="xcvu13p-flga2577-2-e")
    parser.add_argument("--clock-period", type=float, default=5)
    parser.add_argument("--project-name", help="top function / project name (a C identifier)")
    parser.add_argument("--strategy", choices=["Latency", "Resource", "Unrolled"])
    parser.add_argument(
        "--max-precision",
        help="cap on auto types, Model.Precision.maximum (default fixed<24,12,RND,SAT>; 'none': exact bit growth)",
    )


class _TrackDefault(argparse.Action):
    """Store the value and remember that the user gave it (so YAML values are only overridden then)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnhls",
        description="Compile trained neural networks (Keras, ONNX, PyTorch) to HLS C++ for FPGAs.",
        epilog="Example: nnhls convert --example",
    )
    parser.add_argument("--version", action="version", version=f"nnhls {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{config,convert,compile,predict,build,report,sweep}")

    p = sub.add_parser("config", help="print a starting YAML config for a model", epilog="Example: nnhls config model.keras > config.yml")
    p.add_argument("model", help="model file: .keras, .h5, .json (+ --weights), .onnx, TorchScript .pt")
    _add_model_options(p)
    p.add_argument("--precision", default="fixed<16,6>", help="model default precision")
    p.add_argument("--reuse-factor", type=int, default=1)
    p.add_argument("--io-type", default="io_parallel", choices=["io_parallel", "io_stream"])
    p.add_argument("-o", "--output", help="OutputDir written into the config")
    p.add_argument("--output-file", help="write the YAML here instead of stdout")
    p.add_argument("--data", action="append", help="calibration inputs (.npy; one per model input, in order): choose every layer's types on them")
    p.add_argument("--target-accuracy", type=float, default=0.99, help="with --data: argmax agreement (classifiers) to keep with the float model (default 0.99)")
    p.add_argument("--margin", type=int, default=0, help="with --data: integer bits added to the observed ranges")
    p.add_argument("--calibration-plot", help="with --data: save accuracy vs BOPs along the search as this PNG (needs the plot extra)")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("convert", help="convert a model or YAML config into an HLS project", epilog="Examples: nnhls convert --example | nnhls convert config.yml | nnhls convert model.onnx -o prj")
    p.add_argument("source", nargs="?", help="CONFIG.yml or a model file")
    p.add_argument("--example", action="store_true", help="run the whole job on the bundled jet-tagger example")
    _add_model_options(p)
    p.add_argument("--precision", default="fixed<16,6>", action=_TrackDefault, help="model default precision")
    p.add_argument("--reuse-factor", type=int, default=1, action=_TrackDefault)
    p.add_argument("--io-type", choices=["io_parallel", "io_stream"])
    p.add_argument("-o", "--output", help="output directory (OutputDir)")
    p.add_argument("--pipeline", help="custom pass pipeline in nnhls-opt -p syntax")
    p.add_argument("--dump-ir", metavar="STAGE", help="print the IR after a stage (import, configured, nn, typed, scheduled, hls) and stop")
    p.add_argument("--force", action="store_true", help="write into a non-empty directory nnhls did not create")
    p.add_argument("--run", action="store_true", help="also compile and predict the InputData, as --example does")
    p.set_defaults(func=cmd_convert, precision_given=False, reuse_factor_given=False)

    p = sub.add_parser("compile", help="build the C++ emulation library of a project", epilog="Example: nnhls compile my-hls-test")
    p.add_argument("project")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("predict", help="run a project on inputs", epilog="Example: nnhls predict my-hls-test -i x.npy -o y.npy")
    p.add_argument("project")
    p.add_argument("-i", "--input", required=True, action="append", help="inputs: .npy or .dat (one sample per line); repeat -i once per model input, in order")
    p.add_argument("-o", "--output", required=True, help="outputs: .npy or .dat (.npz for several outputs)")
    p.add_argument("--emulator", default="cpp", choices=["cpp", "numpy"], help="the g++ build (cpp) or the numpy emulator")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("build", help="run Vitis HLS / Vivado HLS on a project", epilog="Example: nnhls build my-hls-test --csim --synth")
    p.add_argument("project")
    for flag in ("csim", "synth", "cosim", "export", "vsynth"):
        p.add_argument(f"--{flag}", action="store_true")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("report", help="per-layer report, overflow report and synthesis results", epilog="Example: nnhls report my-hls-test --data x.npy")
    p.add_argument("project")
    p.add_argument("--data", action="append", help="inputs (.npy or .dat; one per model input, in order): also report the values that saturate or wrap")
    p.add_argument("--plots", metavar="DIR", help="with --data: save per-layer weight and activation distributions against their types as PNGs in DIR (needs the plot extra)")
    p.set_defaults(func=cmd_report)

    from nnhls.tools import sweep_cli

    sweep_cli.add_parsers(sub)
    return parser


def is_user_error(error: BaseException) -> bool:
    """Whether an exception is the user's to fix (one line) rather than a bug in nnhls (a
    traceback): our UserErrors, unparsable IR text, and operating-system errors on a named file
    (a missing or unreadable path)."""
    from xdsl.utils.exceptions import ParseError

    if isinstance(error, UserError | ParseError):
        return True
    return isinstance(error, OSError) and error.filename is not None


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: str | None = None) -> None:
    sys.stderr.write(format_warning(message, category))


def main(argv: Sequence[str] | None = None) -> int:
    from nnhls.tools.sweep_cli import rewrite_argv

    parser = build_parser()
    args = parser.parse_args(rewrite_argv(list(sys.argv[1:] if argv is None else argv)))
    handler: Callable[[argparse.Namespace], int] = args.func
    warnings.showwarning = _show_warning
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("nnhls: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug or not is_user_error(error):
            raise
        print(f"nnhls: error: {_error_line(error)}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
