"""Pictures and listings of a converted model and its config (`nnhls.utils.plot_model`,
`nnhls.utils.print_dict`), as hls4ml tutorials use them.

    nnhls.utils.print_dict(config)                                   # the nested config, indented
    nnhls.utils.plot_model(hls_model, show_shapes=True, show_precision=True, to_file="model.png")
    dot_source = nnhls.utils.plot_model(hls_model, to_file=None)     # the Graphviz text

`plot_model` writes Graphviz DOT itself (no pydot needed): `.dot`/`.gv` files always, images
(`.png`, `.svg`, `.pdf`...) through Graphviz's `dot` program when it is installed (a clear error
otherwise). Layer names are escaped, never trusted as DOT syntax.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nnhls.config import ConfigError

DOT_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "gif", "ps", "eps")
_RANKDIRS = ("TB", "LR", "BT", "RL")


def print_dict(d: Mapping[str, Any], indent: int = 0) -> None:
    """Print a nested config dict: one key per line, nested entries indented, values aligned."""
    width = max((len(str(k)) for k, v in d.items() if not (isinstance(v, Mapping) and v)), default=0) + 1
    for key, value in d.items():
        if isinstance(value, Mapping) and value:
            print(" " * indent + str(key))
            print_dict(value, indent + 2)  # pyright: ignore[reportUnknownArgumentType]
        else:
            print(" " * indent + f"{str(key) + ':':<{width}} {value}")


def _dot_string(text: str) -> str:
    """A DOT double-quoted string holding `text` literally."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{escaped}"'


def _shape(shape: Any) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def model_to_dot(model: Any, show_shapes: bool = False, show_layer_names: bool = True, rankdir: str = "TB", dpi: int = 96, show_precision: bool = False) -> str:
    """The Graphviz DOT text of a converted model's layer graph."""
    if rankdir not in _RANKDIRS:
        raise ConfigError(f"plot_model: rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 10 <= dpi <= 1200:
        raise ConfigError(f"plot_model: dpi must be an integer between 10 and 1200, got {dpi!r}")
    layers = model.get_layers()
    ids = {layer.name: f"n{i}" for i, layer in enumerate(layers)}
    lines = ["digraph model {", f"  rankdir={rankdir};", f"  dpi={dpi};", "  node [shape=record, fontname=Helvetica];"]
    for layer in layers:
        title = f"{layer.name}: {layer.class_name}" if show_layer_names else layer.class_name
        parts = [title]
        output = layer.get_output_variable()
        if show_shapes:
            inputs = [layer.model.graph[name].get_output_variable().shape for name in layer.inputs]
            shown = ", ".join(_shape(s) for s in inputs) if inputs else "-"
            parts.append(f"input: {shown}   output: {_shape(output.shape)}")
        if show_precision:
            parts.append(f"result: {output.type.precision}")
            for var, named in layer.precision.items():
                if var != "result":
                    parts.append(f"{var}: {named.precision}")
        label = "\n".join(parts)
        lines.append(f"  {ids[layer.name]} [shape=box, label={_dot_string(label)}];")
    for layer in layers:
        for source in layer.inputs:
            if source in ids:
                lines.append(f"  {ids[source]} -> {ids[layer.name]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def plot_model(
    model: Any,
    to_file: str | Path | None = "model.png",
    show_shapes: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    dpi: int = 96,
    show_precision: bool = False,
) -> str | None:
    """Draw the layer graph: returns the DOT text when `to_file` is None, else writes the file."""
    dot = model_to_dot(model, show_shapes, show_layer_names, rankdir, dpi, show_precision)
    if to_file is None:
        return dot
    path = Path(to_file)
    if path.is_symlink():
        raise ConfigError(f"plot_model: '{path}' is a symbolic link; give a regular file name")
    fmt = path.suffix.lower().lstrip(".")
    if fmt in ("dot", "gv"):
        path.write_text(dot)
        return None
    if fmt not in DOT_FORMATS:
        raise ConfigError(f"plot_model: cannot write '{path.name}': use .dot/.gv or one of {', '.join('.' + f for f in DOT_FORMATS)}")
    program = shutil.which("dot")
    if program is None:
        raise ConfigError(
            f"plot_model: writing '{path.name}' needs Graphviz's 'dot' program, which is not installed; "
            "install Graphviz or give a .dot file name"
        )
    result = subprocess.run([program, f"-T{fmt}", "-o", str(path)], input=dot, text=True, capture_output=True, check=False)
    if result.returncode != 0:
        raise ConfigError(f"plot_model: Graphviz failed: {result.stderr.strip().splitlines()[-1:]}")
    return None
