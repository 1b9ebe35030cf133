"""Shared fixtures: the real SSB material beside the project in ../shared/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from migaudit.errors import ReadError

# Speed is measured by benchmarks, never by tests: no per-example deadline (a loaded 2-core CI
# machine would fail a property on time, not on the property).
settings.register_profile("migaudit", deadline=None)
settings.load_profile("migaudit")

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


def assert_tables_or_read_error(readers: list[Callable[[], list]]) -> None:
    """Fuzz property: each reader gives well-formed Tables or a ReadError, never another exception."""
    for read in readers:
        try:
            tables = read()
        except ReadError:
            continue
        assert tables and all(t.values.shape == t.symbols.shape for t in tables)
