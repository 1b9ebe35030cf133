"""Size: cross-table checks on multi-million-cell tables, and what `import migaudit` loads."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from migaudit.engine.crosstable import cross_table_outcomes
from migaudit.model.cube import Cube
from migaudit.model.table import Dimension, Table

MEASURES = ("births", "deaths", "immigration", "emigration", "net_migration")


def _big(tid: str, regions: int = 1_500, quarters: int = 40, ages: int = 10) -> Table:
    """region × quarter × age × measure: 3M cells (regions not municipalities: no regional sums)."""
    dims = [
        Dimension("region", tuple(f"R{i:04d}" for i in range(1, regions + 1)),
                  tuple(f"Place {i}" for i in range(1, regions + 1)), role="region"),
        Dimension("time", tuple(f"{2000 + q // 4}K{q % 4 + 1}" for q in range(quarters)), role="time"),
        Dimension("age", tuple(f"{a:03d}" for a in range(ages)), tuple(f"{a} years" for a in range(ages)), role="age"),
        Dimension("contents", MEASURES, role="measure"),
    ]
    shape = tuple(len(d) for d in dims)
    values = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) % 1000
    return Table(dims, values, np.zeros(shape, dtype=np.uint8), id=tid)


def test_two_multi_million_cell_tables_differing_in_one_figure() -> None:
    a = _big("A")
    b = _big("B")
    assert a.size == 3_000_000
    b.values[1234, 17, 3, 2] += 7
    outs = cross_table_outcomes([Cube.of(a), Cube.of(b)])
    same = [o for o in outs if o.rule.id == "same_figure"]
    assert len(same) == 1
    o = same[0]
    assert o.checked == a.size and o.failed == 1 and o.passed == a.size - 1
    (v,) = o.violations
    assert v.imbalance == -7 or v.imbalance == 7
    assert v.codes == {"region": "R1235", "time": "2004K2", "age": "003", "contents": "immigration"}
    tables = {c[0] for c in v.cells}
    assert tables == {"A", "B"}


def test_cross_table_itemises_up_to_a_limit_and_counts_all() -> None:
    a = _big("A", regions=20, quarters=4, ages=2)
    b = _big("B", regions=20, quarters=4, ages=2)
    b.values += 1
    (o,) = cross_table_outcomes([Cube.of(a), Cube.of(b)], max_itemised=5)
    assert o.failed == a.size and len(o.violations) == 5


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_migaudit_does_not_import_pandas() -> None:
    assert "pandas" not in _modules_after("import migaudit")
    mods = _modules_after("import migaudit.cli")
    assert "pandas" not in mods and "migaudit.cli" in mods
    # nor does auditing the bundled release (tidy JSON, PX, JSON-stat, CSV, text) and its reports
    mods = _modules_after("from migaudit.cli import example_release\nfrom migaudit.runner import run_audit\n"
                          "from migaudit.report import render\nr = run_audit([example_release()], [])\n"
                          "render(r, 'json'); render(r, 'text')")
    assert "pandas" not in mods and "migaudit.engine.crosstable" in mods


def test_generated_cube_streams_as_partitioned_parquet_and_audits(tmp_path) -> None:
    from migaudit import audit
    from migaudit.backends.synthetic import CubeShape, blocks, region_rules
    from migaudit.backends.testing import write_parquet_dataset
    from migaudit.readers.tidy import read_dataset

    shape = CubeShape.about(200_000)
    # memory is bounded by a chunk: no municipality block holds more than asked for
    sizes = [v.size for _, v in blocks(shape, chunk_cells=20_000)]
    assert max(sizes[:-2]) <= 20_000 and sum(sizes) == shape.cells
    injected = write_parquet_dataset(200_000, tmp_path / "cube", errors=2, rows_per_file=50_000)
    assert len(list((tmp_path / "cube").glob("part-*.parquet"))) >= 3
    t = read_dataset(tmp_path / "cube")
    assert t.size == shape.cells and t.dim("region").codes[:2] == ("0", "01")
    r = audit([tmp_path / "cube"], region_rules(shape), cross_table=False)
    bad = {tuple(v.codes.values()) for v in r.violation_list if v.severity == "error"}
    for where, _ in injected.cells:
        assert any(all(c in b for c in where[1:]) for b in bad), where
    clean = write_parquet_dataset(200_000, tmp_path / "clean", errors=0)
    assert clean.cells == []
    r = audit([tmp_path / "clean"], region_rules(shape), cross_table=False)
    assert r.count("error") == 0 and r.to_dict()["warnings"] == []


def test_limits_are_reported_in_warnings(monkeypatch) -> None:
    """More mismatches than are itemised: all counted, and the report says how many are listed."""
    import migaudit.engine.dense
    from migaudit import audit

    monkeypatch.setattr(migaudit.engine.dense, "MAX_VIOLATIONS", 3)
    a = _big("A", regions=10, quarters=4, ages=1)
    b = _big("B", regions=10, quarters=4, ages=1)
    b.values += 1
    d = audit([a, b]).to_dict()
    assert any("same_figure on A = B: 200 failures counted, 3 itemised" in w for w in d["warnings"]), d["warnings"]
    assert any(w.startswith("suspects not searched") for w in d["warnings"]) is False


def test_statbank_long_fast_path_reads_what_the_row_reader_reads() -> None:
    from migaudit.readers import statbank_csv as sb

    text = ('"region";"sex";"year";"01222: Population changes"\n'
            '"0101 Halden";"1";"2020";"12,5"\n'
            '" 0101 Halden";"2";"2020";".."\n'
            '"0301 Oslo";"1";"2020";"-"\n'
            '"0301 Oslo";"2";"2020";"1 234"\n'
            '"0101 Halden";"1";"2021";"7*"\n')
    data = text.encode()
    rows = sb.split_rows(text, ";", "x.csv")
    notes: list[str] = []
    fast = sb._read_long_arrow(text, data, rows[0], ";", "x.csv", "x", notes)
    assert fast is not None
    slow = sb._read_long(rows, ";", "x.csv", "x", [])
    assert fast.equals(slow) and fast.id == slow.id == "01222"
    assert fast.dim("region").codes == ("0101", "0301") and fast.notes == slow.notes
    # a junk cell makes the fast path step aside, and the row reader names the line
    bad = text.replace('"7*"', '"7x"')
    assert sb._read_long_arrow(bad, bad.encode(), rows[0], ";", "x.csv", "x", []) is None
    import pytest

    from migaudit.errors import ReadError
    with pytest.raises(ReadError, match="line 6"):
        sb.read(bad.encode(), "x.csv")


def test_wide_keys_match_like_packed_keys(monkeypatch) -> None:
    """Releases with too many distinct key parts for one int64 are factorised role by role."""
    import migaudit.engine.crosstable as xt

    a = _big("A", regions=30, quarters=8, ages=3)
    b = _big("B", regions=30, quarters=8, ages=3)
    b.values[3, 2, 1, 0] -= 4
    packed = xt.cross_table_outcomes([Cube.of(a), Cube.of(b)])
    monkeypatch.setattr(xt, "_RADIX_LIMIT", 1)
    wide = xt.cross_table_outcomes([Cube.of(a), Cube.of(b)])
    assert [(o.checked, o.failed) for o in wide] == [(o.checked, o.failed) for o in packed] == [(a.size, 1)]
    assert wide[0].violations[0].codes == packed[0].violations[0].codes
