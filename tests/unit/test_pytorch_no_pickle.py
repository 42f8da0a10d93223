"""PyTorch files never run code while nnhls reads them (issue 12).

Each archive below carries a pickle whose loading would run `touch <marker>`: in torch.export
weights (`use_pickle`), in an opaque constant, as the sample inputs, in a TorchScript archive's
data.pkl, as a plain pickle, and the same .pt2 files renamed `.pt`. Loading must fail with a
clear error and the marker must not exist. A control shows the payload is real: torch's own
unguarded loader does create the marker.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from nnhls.frontends.common import ModelFileError
from nnhls.frontends.pytorch import (
    UnsafeModelFileError,
    _pickles_refused,
    load_pytorch_file,
)

torch = pytest.importorskip("torch")


class _Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., int], tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


class _Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x))


def _rewrite(src: Path, dst: Path, change: Callable[[str, bytes], bytes], extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("pt")
    marker = folder / "PWNED"
    payload = pickle.dumps(_Payload(marker), protocol=2)
    good = folder / "good.pt2"
    torch.export.save(torch.export.export(_Model(), (torch.zeros(1, 4),)), good)
    prefix = zipfile.ZipFile(good).namelist()[0].split("/")[0]

    def weights(name: str, data: bytes) -> bytes:
        if name.endswith("model_weights_config.json"):
            config = json.loads(data)
            config["config"]["fc.weight"]["use_pickle"] = True
            return json.dumps(config).encode()
        return payload if name.endswith("weights/weight_0") else data

    def opaque(name: str, data: bytes) -> bytes:
        if name.endswith("model_constants_config.json"):
            return json.dumps({"config": {"k": {"path_name": "opaque_obj_0", "is_param": False, "use_pickle": True}}}).encode()
        return data

    ts_good = folder / "good_ts.pt"
    torch.jit.script(_Model()).save(str(ts_good))
    found = {
        "weights.pt2": _rewrite(good, folder / "weights.pt2", weights),
        "sample.pt2": _rewrite(good, folder / "sample.pt2", lambda n, d: payload if n.endswith("sample_inputs/model.pt") else d),
        "opaque.pt2": _rewrite(good, folder / "opaque.pt2", opaque, {f"{prefix}/data/constants/opaque_obj_0": payload}),
        "ts_payload.pt": _rewrite(ts_good, folder / "ts_payload.pt", lambda n, d: payload if n.endswith("/data.pkl") else d),
    }
    for name in ("weights", "sample", "opaque"):
        found[f"{name}_renamed.pt"] = (folder / f"{name}_renamed.pt")
        found[f"{name}_renamed.pt"].write_bytes(found[f"{name}.pt2"].read_bytes())
    found["plain.pt"] = folder / "plain.pt"
    found["plain.pt"].write_bytes(payload)
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buffer)
    found["state_dict.pt"] = folder / "state_dict.pt"
    found["state_dict.pt"].write_bytes(buffer.getvalue())
    found["good.pt2"], found["good_ts.pt"] = good, ts_good
    return marker, found


@pytest.mark.parametrize(
    "name",
    ["weights.pt2", "sample.pt2", "opaque.pt2", "ts_payload.pt", "weights_renamed.pt", "sample_renamed.pt",
     "opaque_renamed.pt", "plain.pt", "state_dict.pt"],
)
def test_payload_never_runs(archives: tuple[Path, dict[str, Path]], name: str) -> None:
    marker, files = archives
    with pytest.raises(ModelFileError) as error:
        load_pytorch_file(files[name])
    assert "\n" not in str(error.value) and len(str(error.value)) < 400
    if name not in ("ts_payload.pt",):
        assert isinstance(error.value, UnsafeModelFileError), str(error.value)
    assert not marker.exists()


def test_guard_alone_stops_torch_from_unpickling(archives: tuple[Path, dict[str, Path]]) -> None:
    """Without our archive check, torch.export.load under `_pickles_refused` still runs nothing."""
    marker, files = archives
    for name in ("weights.pt2", "sample.pt2", "opaque.pt2"):
        with pytest.raises(Exception), _pickles_refused():  # noqa: B017 - any refusal will do
            torch.export.load(str(files[name]))
        assert not marker.exists()
    assert torch.load is not None and "weights_only_load" not in repr(torch.load)


def test_payload_is_real(archives: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    """Control: torch's own loader, unguarded, runs the payload (in a separate process)."""
    marker, files = archives
    code = "import sys, torch\ntry:\n    torch.export.load(sys.argv[1])\nexcept Exception:\n    pass\n"
    subprocess.run([sys.executable, "-c", code, str(files["weights.pt2"])], capture_output=True, timeout=300, check=False)
    assert marker.exists()
    marker.unlink()


def test_clean_archives_still_load(archives: tuple[Path, dict[str, Path]]) -> None:
    _, files = archives
    x = torch.ones(1, 4)
    for name in ("good.pt2", "good_ts.pt"):
        module = load_pytorch_file(files[name])
        assert tuple(module(x).shape) == (1, 3)
