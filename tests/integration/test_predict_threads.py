"""Batch predict() spreads the samples over threads of the native library (issue 18): any thread
count gives the same bits (as the numpy emulator), the count is an argument or $NNHLS_THREADS
(default: every core this process may use), and a bad count is one clear error."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from nnhls import converters
from nnhls.compiler.hls_model import HLSModel, default_threads
from nnhls.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"


@pytest.fixture(scope="module")
def jet(tmp_path_factory: pytest.TempPathFactory) -> HLSModel:
    out = tmp_path_factory.mktemp("threads") / "prj"
    model = converters.convert_from_keras_model(str(EXAMPLE / "jet_tagger.keras"), output_dir=str(out), project_name="jet")
    model.compile()
    return model


def test_results_do_not_depend_on_the_thread_count(jet: HLSModel, monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(3).normal(size=(1001, 16)) * 3
    reference = jet.predict(x, emulator="numpy")
    for n in (1, 2, 3, 7, 64, 200):  # more than 64 runs on 64; fewer samples than 2 per thread on one
        np.testing.assert_array_equal(jet.predict(x, n_threads=n), reference, err_msg=f"{n} threads")
    monkeypatch.setenv("NNHLS_THREADS", "5")
    assert default_threads() == 5
    np.testing.assert_array_equal(jet.predict(x), reference)
    np.testing.assert_array_equal(jet.predict(x[:1]), reference[:1])


def test_default_is_every_usable_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NNHLS_THREADS", raising=False)
    assert default_threads() == len(os.sched_getaffinity(0))


def test_bad_thread_counts_are_one_line_errors(jet: HLSModel, monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.zeros((4, 16))
    with pytest.raises(ConfigError, match="n_threads must be at least 1"):
        jet.predict(x, n_threads=0)
    monkeypatch.setenv("NNHLS_THREADS", "many")
    with pytest.raises(ConfigError, match="NNHLS_THREADS must be a whole number"):
        jet.predict(x)
