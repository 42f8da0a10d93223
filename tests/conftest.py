"""Shared pytest setup: Keras on the torch backend, and the third-party model corpus.

The corpus lives outside the project (`../shared/corpus` next to the checkout, or NNHLS_CORPUS);
tests that need it skip cleanly when it is absent. It is never copied into the project.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

REPO_ROOT = Path(__file__).resolve().parent.parent


def corpus_path() -> Path | None:
    """The model corpus folder, or None when it is not on this machine."""
    candidates = [os.environ.get("NNHLS_CORPUS"), REPO_ROOT.parent / "shared" / "corpus"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "README.md").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Path of the corpus; skips the test when the corpus is absent."""
    path = corpus_path()
    if path is None:
        pytest.skip("model corpus (../shared/corpus) not available")
    return path

