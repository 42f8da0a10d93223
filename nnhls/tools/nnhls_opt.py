"""`nnhls-opt`: parse IR (or import a model file), run `-p` pass pipelines, print.

    nnhls-opt model.mlir -p 'nn-infer-precision,lower-nn-to-hls{io-type=io_stream}'
    nnhls-opt model.onnx                  # the imported nn IR of a model file
    nnhls-opt model.json --weights model_weights.h5
    nnhls-opt model.hls.mlir -t hls-cpp   # the generated firmware (defines.h, parameters.h, .cpp)

xDSL 0.74 registers an experimental dialect also called `hls`; this tool loads ours instead.
Parse, verify and import errors print one line (file, line, problem) and exit with code 1.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import IO, Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from nnhls import __version__
from nnhls.errors import UserError, format_warning

MODEL_EXTENSIONS = ("onnx", "keras", "h5", "json")


class NNHLSOptMain(xDSLOptMain):
    version_format = f"nnhls-opt {__version__} (xdsl {{xdsl_version}})"

    def register_all_dialects(self) -> None:
        from xdsl.dialects import get_all_dialects

        for name, factory in get_all_dialects().items():
            if name not in ("hls", "nn"):  # never xDSL's experimental hls
                self.ctx.register_dialect(name, factory)

        def hls_dialect():
            from nnhls import ops

            return ops.hls_dialect()

        def nn_dialect():
            from nnhls import ops

            return ops.nn_dialect()

        self.ctx.register_dialect("hls", hls_dialect)
        self.ctx.register_dialect("nn", nn_dialect)

    def register_all_passes(self) -> None:
        super().register_all_passes()  # keep canonicalize, cse, dce, ...
        from nnhls.compiler.pipeline import all_passes

        for name, factory in all_passes().items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        super().register_all_targets()

        def hls_cpp(module: ModuleOp, output: IO[str]) -> None:
            """The generated firmware (defines.h, parameters.h, <project>.cpp) of an hls module."""
            from nnhls.codegen.files import listing
            from nnhls.codegen.firmware import build_firmware

            output.write(listing(build_firmware(module)))

        self.available_targets["hls-cpp"] = hls_cpp  # pyright: ignore[reportArgumentType]

    def register_all_frontends(self) -> None:
        super().register_all_frontends()

        def parse_mlir(stream: IO[bytes]) -> ModuleOp:
            from nnhls.compiler.ir_text import parse_ir

            data = stream.read()
            text = data.decode("utf-8", errors="strict") if isinstance(data, bytes) else data
            return parse_ir(self.ctx, text, self.get_input_name(), not self.args.no_implicit_module)

        self.available_frontends["mlir"] = parse_mlir
        for extension in MODEL_EXTENSIONS:
            self.available_frontends[extension] = self._model_frontend(extension)

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        super().register_all_arguments(arg_parser)
        arg_parser.add_argument(
            "--weights",
            default=None,
            help="weights H5 file for a Keras model JSON input (the YAML's KerasH5)",
        )
        arg_parser.add_argument(
            "--name", default=None, help="name of the imported model function (model files only)"
        )

    def prepare_input(self) -> tuple[Any, str]:
        """xDSL's input reading; its ValueErrors (an unknown file extension) are the user's."""
        try:
            return super().prepare_input()
        except ValueError as error:
            raise UserError(" ".join(str(error).split())) from None

    def _model_frontend(self, extension: str) -> Callable[[IO[bytes]], ModuleOp]:
        def import_model(stream: IO[bytes]) -> ModuleOp:
            stream.close()
            path = self.args.input_file
            if path is None:
                raise SystemExit(f"nnhls-opt: error: a .{extension} model must be given as a file path")
            if extension == "onnx":
                from nnhls.frontends.onnx import import_onnx

                return import_onnx(path, name=self.args.name)
            from nnhls.frontends.keras import import_keras

            return import_keras(path, weights=self.args.weights, name=self.args.name)

        return import_model


_LAYER_MESSAGE = re.compile(r"^[\w.]+ '([^']*)':")


def _layer_line(source: str, text: str) -> int | None:
    """The line of `source` that defines the layer a verifier message names, if it can be found."""
    match = _LAYER_MESSAGE.match(text)
    if match is None or not os.path.isfile(source):
        return None
    needle = f'layer = "{match.group(1)}"'
    with open(source, encoding="utf-8", errors="replace") as file:
        for number, line in enumerate(file, start=1):
            if needle in line:
                return number
    return None


def _one_line(error: BaseException, source: str) -> str:
    """A single-line message for a user-facing error: file, line when known, and the problem."""
    from nnhls.compiler.ir_text import IRTextError

    if isinstance(error, IRTextError):
        return str(error).replace(": ", ": error: ", 1) if str(error).startswith(source) else f"{source}: error: {error}"
    if isinstance(error, ParseError):
        location = error.span.get_location()
        file = source if location.file in ("", "<unknown>") else location.file
        return f"{file}:{location.line}:{location.col}: error: {error.msg}"
    text = " ".join(str(error).split())
    if (line := _layer_line(source, text)) is not None:
        return f"{source}:{line}: error: {text}"
    return f"{source}: error: {text}"


def _is_user_error(error: BaseException) -> bool:
    """Input the user must fix: unparsable or invalid IR, our UserErrors, a missing file."""
    if isinstance(error, ParseError | DiagnosticException | UserError):
        return True
    return isinstance(error, OSError) and error.filename is not None


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: IO[str] | None = None, line: str | None = None) -> None:
    sys.stderr.write(format_warning(message, category))


def main(argv: Sequence[str] | None = None) -> None:
    warnings.showwarning = _show_warning
    try:
        tool = NNHLSOptMain(args=argv)
    except (ParseError, ValueError, ArgSpecParseError) as error:  # a malformed -p pipeline
        text = error.msg if isinstance(error, ParseError) else " ".join(str(error).split())
        print(f"nnhls-opt: error: {text}", file=sys.stderr)
        raise SystemExit(1) from None
    source = tool.args.input_file or "<stdin>"
    try:
        tool.run()
    except Exception as error:
        if not _is_user_error(error):
            raise
        print(_one_line(error, source), file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
