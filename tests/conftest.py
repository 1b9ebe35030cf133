"""Shared fixtures: the real SSB material beside the project in ../shared/."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
SSB = SHARED / "ssb"


@pytest.fixture(scope="session")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside the project")
    return SEEDS


@pytest.fixture(scope="session")
def ssb() -> Path:
    if not SSB.is_dir():
        pytest.skip("../shared/ssb is not beside the project")
    return SSB
