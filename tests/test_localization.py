"""Exact localization on real SSB tables: injected errors are named, ties listed whole, swaps as
two cells, bounds never get an expected value, suppressed cells get intervals."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import migaudit
from migaudit.engine.localization import LocalizeOptions, localize
from migaudit.model.cube import Cube
from migaudit.model.table import Dimension, Table
from migaudit.result import AuditResult
from migaudit.rules.ruleset import load_rules
from migaudit.runner import collect

RELEASE = Path(migaudit.__file__).parent / "data" / "example_release"
STATBANK = "statbank_export_nationality_by_county_2018-05.csv"


@lru_cache(maxsize=1)
def _release() -> dict[str, Table]:
    tables, _ = collect([RELEASE])
    return {t.id: t for t in tables if t.values.size <= 5000}  # small tables keep the examples fast


@lru_cache(maxsize=1)
def _rules():  # noqa: ANN202
    return load_rules()


@lru_cache(maxsize=32)
def _known(table_id: str) -> frozenset:
    """Suspects of the table as published (002-3 has SSB's real 2015 emigration split)."""
    return frozenset(_suspects(migaudit.audit([_release()[table_id]], _rules(), cross_table=False)))


def _copy(t: Table) -> Table:
    return replace(t, values=t.values.copy(), symbols=t.symbols.copy(), meta=dict(t.meta))


def _where(t: Table, idx: tuple[int, ...]) -> dict[str, str]:
    cube = Cube.of(t)
    return cube.where(idx + (0,) * (len(cube.dims) - len(idx)))[0]


def _suspects(r: AuditResult) -> dict[tuple, dict]:
    """Distinct suspect cells (by codes) over all violations, with their entries."""
    out: dict[tuple, dict] = {}
    for v in r.violation_list:
        for s in v.suspects:
            out.setdefault((s["table"], tuple(sorted(s["where"].items()))), s)
    return out


def _transpose(v: int) -> int:
    s = str(abs(v))
    return int(s[1] + s[0] + s[2:]) * (1 if v >= 0 else -1) if len(s) >= 2 else v


ERRORS = {
    "+1": lambda v: v + 1, "-1": lambda v: v - 1, "+10": lambda v: v + 10, "-10": lambda v: v - 10,
    "+100": lambda v: v + 100, "-100": lambda v: v - 100, "sign": lambda v: -v,
    "transpose": _transpose, "double": lambda v: int(str(abs(v))[0] + str(abs(v))) * (1 if v >= 0 else -1),
    "drop": lambda v: int(str(abs(v))[1:] or 0) * (1 if v >= 0 else -1),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_single_error_is_named_or_inside_an_honest_tie(data):
    """The injected cell with its original value always explains every failure in one change,
    so it is the suspect (rules single it out) or one of the tied cells, all listed, with
    tie_size equal to the number of alternatives."""
    tables = _release()
    t = _copy(tables[data.draw(st.sampled_from(sorted(tables)))])
    cells = np.argwhere(~np.isnan(t.values) & (t.symbols == 0))
    idx = tuple(int(i) for i in cells[data.draw(st.integers(0, len(cells) - 1))])
    original = float(t.values[idx])
    new = ERRORS[data.draw(st.sampled_from(sorted(ERRORS)))](int(original))
    if new == original or original != int(original):
        return
    if (t.id, tuple(sorted(_where(t, idx).items()))) in _known(t.id):
        return  # a cell of the published table's own inconsistency: one change no longer explains all
    t.values[idx] = new
    r = migaudit.audit([t], _rules(), cross_table=False)
    failing = [v for v in r.violation_list if v.severity in ("error", "warning")]
    if not failing:
        return  # the rules cannot see this error
    found = {k: s for k, s in _suspects(r).items() if k not in _known(t.id)}
    mine = found.get((t.id, tuple(sorted(_where(t, idx).items()))))
    assert mine is not None, (t.id, idx, new, list(found))
    assert mine["suggested"] == original or (mine["suggested"] is None and mine.get("lower", -np.inf) <= original
                                             <= mine.get("upper", np.inf))
    assert mine["codes"] and mine["actual"] == new
    if "tie_size" in mine:
        alternatives = {s["alternative"] for s in found.values() if "alternative" in s}
        assert mine["tie_size"] == len(alternatives) >= 2
    else:
        assert len(found) == 1  # singled out: nothing else is named
    assert all(v.suspects for v in failing if v.rule != "suppressed_cell_interval")


def test_rules_single_out_the_crossing_cell_of_a_two_way_table():
    t = _copy(_release()["11"])
    row = t.dim("citizenship").labels.index("Poland")
    t.values[row, 3] += 100
    r = migaudit.audit([t], _rules(), cross_table=False)
    (s,) = _suspects(r).values()
    assert s["where"]["citizenship"] == "Poland" and s["where"]["region"] == t.dim("region").labels[3]
    assert s["suggested"] == s["actual"] - 100 and "tie_size" not in s


def test_equally_likely_cells_are_a_tie_listed_whole():
    """Only excess = births − deaths fails when births is wrong: births or deaths, a tie of 2."""
    t = _copy(_release()["national_quarterly_changes_2012K4-2021K1"])
    q = t.dim("quarter").codes.index("2015K1")
    births = t.dim("contents").codes.index("births")
    t.values[q, births] += 10
    r = migaudit.audit([t], _rules(), cross_table=False)
    found = _suspects(r)
    assert {s["where"]["contents"] for s in found.values()} == {"births", "deaths"}
    assert all(s["tie_size"] == 2 for s in found.values())
    d = r.to_dict()
    v = next(v for v in d["violations"] if v["severity"] == "error")
    assert v["tie_size"] == 2 and len(v["alternatives"]) == 2


@pytest.mark.parametrize("table, a, b", [
    ("national_quarterly_changes_2012K4-2021K1", (5, 3), (5, 4)),  # excess of births ↔ immigration
    ("002-2", (3, 0), (4, 0)),  # Oslo ↔ Innlandet in-migration
])
def test_swapped_neighbours_are_named_as_two_cells(table, a, b):
    t = _copy(_release()[table])
    va, vb = float(t.values[a]), float(t.values[b])
    t.values[a], t.values[b] = vb, va
    r = migaudit.audit([t], _rules(), cross_table=False)
    found = _suspects(r)
    assert {k[1] for k in found} == {tuple(sorted(_where(t, a).items())), tuple(sorted(_where(t, b).items()))}
    by_where = {tuple(sorted(s["where"].items())): s for s in found.values()}
    assert by_where[tuple(sorted(_where(t, a).items()))]["suggested"] == va
    assert by_where[tuple(sorted(_where(t, b).items()))]["suggested"] == vb
    assert all("tie_size" not in s for s in found.values())


def test_a_bound_has_a_limit_not_an_expected_value():
    """The 2018 world-region groups fall short of the total (stateless not shown): a bound."""
    t = _copy(_release()["immigration_emigration_by_citizenship_group_2018"])
    total = t.dim("citizenship").labels.index("I alt")
    t.values[total, 1, 0] = ERRORS["drop"](int(t.values[total, 1, 0]))  # 34 382 → 4 382
    r = migaudit.audit([t], _rules(), cross_table=False)
    bounds = [v for v in r.to_dict()["violations"] if v.get("bound")]
    assert bounds
    for v in bounds:
        assert v["bound"] == ">=" and v["expected"] is None and isinstance(v["limit"], (int, float))


def test_weights_are_options_that_break_ties():
    """Only Total = Sweden + Denmark fails: any of the three cells explains it. Equal weights
    give a tie of 3; trusting totals more leaves the two parts; trusting parts more, the total."""
    labels = ("Total", "Sweden", "Denmark")
    t = Table([Dimension("citizenship", labels, role="citizenship")], np.array([100.0, 60.0, 45.0]),
              np.zeros(3, dtype=np.uint8), id="nordic",
              meta={"measure": "Immigration", "reference_period": "2007"})
    r = migaudit.audit([t], _rules(), cross_table=False)
    assert {s["where"]["citizenship"] for s in _suspects(r).values()} == set(labels)
    assert all(s["tie_size"] == 3 for s in _suspects(r).values())
    for options, named in ((LocalizeOptions(total_weight=2.0), {"Sweden", "Denmark"}),
                           (LocalizeOptions(interior_weight=2.0), {"Total"})):
        for v in r.violation_list:
            v.suspects = []
        localize(r, [Cube.of(t)], _rules(), options)
        assert {s["where"]["citizenship"] for s in _suspects(r).values()} == named


def test_suppressed_counties_get_intervals_and_no_false_alarm(ssb):
    r = migaudit.audit([ssb / STATBANK], _rules())
    t = r.tables[0]
    hidden = int((t.symbols == migaudit.model.symbols.CONFIDENTIAL).sum())
    assert hidden > 0 and len(r.intervals) == hidden
    assert [v for v in r.violation_list if v.severity != "info"] == []
    for e in r.intervals:
        assert e["symbol"] == ":" and e["where"]["region"] in ("Østfold", "Akershus", "Oslo")
        assert e["lower"] is not None and e["upper"] is not None and 0 <= e["lower"] <= e["upper"]
    aus = next(e for e in r.intervals if e["where"] == {"region": "Oslo", "citizenship": "Australia", "time": "May 2018"})
    # the whole country's 435 less the published counties: what the three hidden ones share
    col = t.dim("citizenship").labels.index("Australia")
    published = np.nansum(np.where(t.symbols[1:, col] == 0, t.values[1:, col], 0))
    assert aus["upper"] == t.values[0, col, 0] - published
    assert r.to_dict()["intervals"] == r.intervals


def test_an_interval_with_no_room_is_an_error(ssb):
    t = migaudit.read(ssb / STATBANK)[0]
    col = t.dim("citizenship").labels.index("Australia")
    t.values[0, col] = 0  # the whole country shows none, but published counties have some
    r = migaudit.audit([t], _rules())
    errors = [v for v in r.violation_list if v.rule == "suppressed_cell_interval"]
    assert errors and all(v.severity == "error" for v in errors)


def test_cross_table_identities_break_a_tie(ssb):
    """Oslo's births alone: births or deaths (a tie) in 01222; the national page, which the
    municipalities must add up to, says births."""
    t = migaudit.read(ssb / "01222_municipalities_2014K3-2016K3.jsonstat1.json")[0]
    national = migaudit.read(ssb / "national_quarterly_changes_2012K4-2021K1.csv")[0]
    t.values[40, 0, 2] += 3  # Oslo, births, 2015K1
    alone = _suspects(migaudit.audit([t], _rules(), cross_table=False))
    assert {s["where"]["ContentsCode"] for s in alone.values()} == {"Births", "Deaths"}
    both = _suspects(migaudit.audit([t, national], _rules()))
    (s,) = both.values()
    assert s["where"]["ContentsCode"] == "Births" and s["suggested"] == s["actual"] - 3 and "tie_size" not in s


def test_error_in_a_change_column_is_named_though_other_changes_are_negative():
    """004-1's change column (2021K2 − 2020K2) holds negative figures for counts (deaths
    −248): a difference may be negative, so it never forces the search away from the cell."""
    from migaudit.readers import read
    from migaudit.resources import example_release

    t = read(example_release() / "004-1_population_and_changes_2021K2.json")[0]
    births, change = t.dimensions[0].codes.index("births"), t.dimensions[1].codes.index("change")
    assert (t.values[:, change] < 0).any()
    original = float(t.values[births, change])
    t.values[births, change] = original + 1
    r = migaudit.audit([t], cross_table=False)
    failing = [v for v in r.violation_list if v.severity == "error"]
    assert failing
    for v in failing:
        assert [(s["codes"], s["suggested"]) for s in v.suspects] == \
            [({"contents": "births", "time": "change"}, original)]
