"""Where nnhls keeps the files hls4ml ships under `hls4ml/templates/vivado/` (read them, do not edit).

    nnhls.templates.AP_TYPES      # hls4ml: templates/vivado/ap_types   (our own emulation headers)
    nnhls.templates.NNET_UTILS    # hls4ml: templates/vivado/nnet_utils (our kernel library)
    nnhls.templates.template_path("ap_types", "ap_fixed.h")

Generated projects carry copies (`firmware/ap_types`, `firmware/nnet_utils`); Vitis HLS and
Vivado HLS use their own ap_types for synthesis. The folder names differ from hls4ml's
(`hls_lib/nnet` for `nnet_utils`): use these names rather than joining paths by hand.
"""

from __future__ import annotations

from pathlib import Path

HLS_LIB = Path(__file__).resolve().parent / "hls_lib"
AP_TYPES = HLS_LIB / "ap_types"
NNET_UTILS = HLS_LIB / "nnet"
_FOLDERS = {"ap_types": AP_TYPES, "nnet_utils": NNET_UTILS}


def template_path(folder: str, *names: str) -> Path:
    """A file or folder of the header library by hls4ml's folder name (`ap_types`, `nnet_utils`)."""
    if folder not in _FOLDERS:
        raise FileNotFoundError(f"no template folder '{folder}'; nnhls has: {', '.join(_FOLDERS)}")
    path = _FOLDERS[folder].joinpath(*names)
    if not path.resolve().is_relative_to(_FOLDERS[folder]) or not path.exists():
        raise FileNotFoundError(f"'{'/'.join((folder, *names))}' is not part of nnhls's header library")
    return path
