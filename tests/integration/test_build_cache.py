"""The build cache's size limit: the oldest files go, the current build's never."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnhls import converters
from nnhls.codegen.build import cache_limit_bytes

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"


def _model(out: Path, precision: str) -> Any:
    config = converters.load_yaml(EXAMPLE / "config.yml")["HLSConfig"]
    config["Model"]["Precision"] = precision
    return converters.convert_from_keras_model(str(EXAMPLE / "jet_tagger.keras"), hls_config=config, output_dir=str(out), project_name="jet_tagger")


def test_cache_keeps_the_last_build_within_its_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("NNHLS_CACHE_DIR", str(cache))
    first = _model(tmp_path / "a", "fixed<18,8>")  # the larger library of the two
    first_lib = first.compile()
    first_files = [p for p in cache.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in first_files)
    monkeypatch.setenv("NNHLS_CACHE_MAX_MB", str(size * 1.5 / 2**20))  # room for about one build
    second = _model(tmp_path / "b", "fixed<16,6>")
    second_lib = second.compile()
    assert second_lib.is_file() and first_lib in first_files
    assert not all(p.is_file() for p in first_files)  # the oldest build lost files
    assert sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) <= size * 1.5
    x = np.load(EXAMPLE / "inputs.npy")[:5]
    np.testing.assert_array_equal(second.predict(x), second.predict(x, emulator="numpy"))
    first.compile()  # evicted: rebuilt on demand
    np.testing.assert_array_equal(first.predict(x), first.predict(x, emulator="numpy"))


def test_cache_limit_must_be_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNHLS_CACHE_MAX_MB", "lots")
    with pytest.raises(ValueError, match="NNHLS_CACHE_MAX_MB must be a number of megabytes, got 'lots'"):
        cache_limit_bytes()
