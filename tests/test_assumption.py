"""Identities the web-text reader relied on count as assumed, not as checked (issue 13)."""

from pathlib import Path

import pytest

from migaudit.engine.dense import evaluate
from migaudit.model.cube import Cube
from migaudit.readers import read
from migaudit.rules.ruleset import load_rules
from migaudit.runner import audit, derived_rules, inferred_rules

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
PAGES = [SEEDS / "002_9f646cd996dae96d.txt", SEEDS / "004_99fd64565a2b4c95.txt"]


@pytest.fixture(scope="module")
def tables():
    if not all(p.exists() for p in PAGES):
        pytest.fail(f"seed pages missing under {SEEDS}")
    return [t for p in PAGES for t in read(p)]


def test_assumed_rows_are_not_counted_as_checked(tables):
    result = audit(tables)
    rules = {(o.rule.id, o.table): o for o in result.outcomes}
    with_assumed = [t for t in tables if t.meta.get("assumed")]
    assert with_assumed, "the seed pages have rows whose split an identity chose"
    ruleset = load_rules()
    for t in with_assumed:
        cube = Cube.of(t)
        # the same rules evaluated without the reader's knowledge: checked + assumed is the same total
        plain = {r.id: o for r in [*ruleset, *derived_rules(cube), *inferred_rules(cube)]
                 if (o := evaluate(r, cube)) is not None}
        moved = 0
        for rid, o in plain.items():
            got = rules[(rid, t.id)]
            assert got.checked + got.assumed == o.checked
            assert got.passed + got.assumed == o.passed
            assert got.failed == o.failed
            moved += got.assumed
        # every assumed row is an instance of at least one identity, and nothing else moved
        rows = {a["row"] for a in t.meta["assumed"]}
        assert len(rows) <= moved
        assert all(rules[(rid, t.id)].rule.kind == "identity" for rid in plain if rules[(rid, t.id)].assumed)
    d = result.to_dict()
    assert d["summary"]["assumed"] == sum(r["assumed"] for r in d["rules"]) > 0


def test_tables_read_from_cells_assume_nothing():
    from migaudit.resources import example_release

    result = audit([example_release() / "01222_five_regions_DERIVED.jsonstat2.json"])
    assert result.to_dict()["summary"]["assumed"] == 0
    assert result.to_dict()["summary"]["checked"] > 0


def test_the_report_says_how_many_were_assumed(tables):
    from migaudit.report.text import size_text

    result = audit(tables)
    assert "assumed" in size_text(result)
