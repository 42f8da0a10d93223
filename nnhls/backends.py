"""Backends (hls4ml's `get_backend(name).create_initial_config(...)`): the top-level config defaults.

    >>> get_backend("Vitis").create_initial_config(part="xcvu9p-flga2104-2-e")["ClockUncertainty"]
    '27%'
    >>> get_available_backends()
    ['vitis', 'vivado']
    >>> str(get_backend("Vivado").convert_precision_string("ap_fixed<8,3,AP_RND,AP_SAT>"))
    'fixed<8,3,RND,SAT>'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnhls.config import BACKENDS, ConfigError, choice

DEFAULT_PART = "xcvu13p-flga2577-2-e"


@dataclass(frozen=True)
class Backend:
    """A vendor flow: its name and default clock uncertainty."""

    name: str
    clock_uncertainty: str

    def create_initial_config(
        self,
        part: str = DEFAULT_PART,
        clock_period: float = 5,
        clock_uncertainty: str | None = None,
        io_type: str = "io_parallel",
        namespace: str | None = None,
        write_weights_txt: bool = True,
        write_tar: bool = False,
        tb_output_stream: str = "both",
        **_: Any,
    ) -> dict[str, Any]:
        """The top-level config with this backend's defaults (hls4ml's keys and values)."""
        io = choice("IOType", io_type, ("io_parallel", "io_stream"))
        writer: dict[str, Any] = {
            "Namespace": namespace,
            "WriteWeightsTxt": write_weights_txt,
            "WriteTar": write_tar,
            "TBOutputStream": tb_output_stream,
        }
        if self.name == "Vitis":
            writer["WriteEmulationConstants"] = False
        return {
            "Backend": self.name,
            "Part": part,
            "ClockPeriod": clock_period if clock_period is not None else 5,
            "ClockUncertainty": clock_uncertainty or self.clock_uncertainty,
            "IOType": io,
            "HLSConfig": {},
            "WriterConfig": writer,
        }

    def convert_precision_string(self, precision: str) -> Any:
        """A precision string as hls4ml's precision type objects (nnhls.model.types); `auto`
        gives UnspecifiedPrecisionType. Errors name the string."""
        from nnhls.config import precision as parse
        from nnhls.model.types import UnspecifiedPrecisionType, from_fixed

        value = parse("precision", precision, allow_auto=True)
        return UnspecifiedPrecisionType() if isinstance(value, str) else from_fixed(value)

    def get_default_flow(self) -> str:
        """nnhls runs one pass pipeline instead of hls4ml's flows; this is its `-p` spelling."""
        from nnhls.compiler.pipeline import default_pipeline

        return default_pipeline()


_BACKENDS = {"Vitis": Backend("Vitis", "27%"), "Vivado": Backend("Vivado", "12.5%")}


def get_available_backends() -> list[str]:
    """The backend names nnhls writes projects for, lower-case as hls4ml lists them."""
    return [name.lower() for name in _BACKENDS]


def get_backend(name: str) -> Backend:
    """The backend called `name` (case-insensitive: Vitis, Vivado)."""
    try:
        return _BACKENDS[choice("Backend", name, BACKENDS)]
    except ConfigError:
        raise ConfigError(f"unknown backend {name!r}; valid backends: {', '.join(BACKENDS)}") from None
