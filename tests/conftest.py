"""Shared fixtures: the read-only data folder ``../shared/data`` (skipped when absent)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSSORACLE_SHARED", ROOT.parent / "shared" / "data"))
HQ_ROOT = SHARED / "musdb18hq-sample"
STEM_ROOT = SHARED / "musdb18-sample"

requires_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"shared test data not found at {SHARED} (absent outside the project's CI)"
)


@pytest.fixture
def shared_data():
    if not SHARED.is_dir():
        pytest.skip(f"shared test data not found at {SHARED}")
    return SHARED
