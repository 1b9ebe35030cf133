"""Split-column layouts: column labels that combine column groups and measures (issue 11).

SSB's tables of moves by citizenship print total / "same citizenship as the country moved
from/to" / "other citizenship", each for immigration, emigration and net. The real tables
are in tests/data/structure (README there says where each is from). Developed against the
2005 table; the 2011, 1997 and 2003 tables are held out (read and checked as they came).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from migaudit.model.cube import Cube
from migaudit.model.table import Dimension, Table
from migaudit.readers import read
from migaudit.runner import audit
from migaudit.structure import vocabulary
from migaudit.structure.split import GROUP_DIMENSION, combined_axis, split_combined

DATA = Path(__file__).parent / "data" / "structure"
T2005 = DATA / "ssb_tab8_innvandring_utvandring_statsborgerskap_2005.txt"
T2011 = DATA / "ssb_tab9_innvandring_utvandring_statsborgerskap_2011.txt"
T1997 = DATA / "ssb_ab9807_tab14_flyttinger_utlandet_statsborgerskap_1997.txt"
T2003 = DATA / "ssb_tab13_flyttinger_norsk_utenlandsk_2003.txt"
SAME_2005 = "Statsborgerskap er likt fraflyttings-/tilflyttingslandet"
OTHER_2005 = "Statsborgerskapet er ulikt fraflyttings-/tilflyttingslandet"


def _checks(result, rule: str) -> tuple[int, int]:
    rows = [o for o in result.outcomes if o.rule.id == rule]
    return sum(o.checked for o in rows), sum(o.failed for o in rows)


def _cell(table: Table, **where: str) -> tuple[int, ...]:
    return tuple(d.labels.index(where[d.name]) if d.name in where else 0 for d in table.dimensions)


def _with_value(table: Table, delta: float, **where: str) -> Table:
    t = copy.deepcopy(table)
    t.values[_cell(t, **where)] += delta
    return t


def _suspects(result) -> list[dict[str, str]]:  # noqa: ANN001
    return [s["where"] for v in result.violation_list for s in v.suspects]


# --- the developed-against table: SSB 2005, table 8 ------------------------------------------
@pytest.fixture(scope="module")
def t2005() -> Table:
    return read(T2005)[0]


def test_nine_columns_are_column_groups_times_measures(t2005: Table) -> None:
    names = [(d.name, d.role, len(d)) for d in t2005.dimensions]
    assert names == [("statsborgerskap", "citizenship", 29), (GROUP_DIMENSION, None, 3), ("contents", "measure", 3)]
    assert t2005.dimensions[1].labels == ("I alt", SAME_2005, OTHER_2005)
    assert t2005.dimensions[2].labels == ("Innvandring", "Utvandring", "Nettoinnvandring")
    # a reshape: every published cell where the page has it (Sverige: 2 697 in, 2 580 same, 128 other out)
    assert t2005.values[_cell(t2005, statsborgerskap="Sverige", contents="Innvandring")] == 2697
    assert t2005.values[_cell(t2005, statsborgerskap="Sverige", column_group=SAME_2005, contents="Innvandring")] == 2580
    assert t2005.values[_cell(t2005, statsborgerskap="Sverige", column_group=OTHER_2005, contents="Utvandring")] == 128
    assert any("3 column groups" in n and "read as two dimensions" in n for n in t2005.notes)


def test_roles_and_evidence_of_the_split(t2005: Table) -> None:
    cube = Cube.of(t2005)
    assert cube.canon[2] == ["immigration", "emigration", "net_immigration"]
    d = cube.structure.dimension(GROUP_DIMENSION)
    roles = {c.label: (c.role, c.evidence) for c in d.categories}
    assert roles["I alt"][0] == "total"
    assert roles[SAME_2005] == ("part", ("the 'same' side of a split of 'I alt'",))
    assert roles[OTHER_2005] == ("part", ("the 'other' side of a split of 'I alt'",))
    (group,) = d.groups
    assert (group.parent, group.children, group.op) == (0, (1, 2), "==")
    assert "'same … as' and an 'other' part" in group.evidence


def test_published_2005_table_passes_every_check(t2005: Table) -> None:
    result = audit([t2005], cross_table=False)
    assert _checks(result, "net_immigration") == (29 * 3, 0)  # net = in − out in every column group
    assert _checks(result, f"inferred_total_{GROUP_DIMENSION}") == (29 * 3, 0)  # total = same + other
    assert _checks(result, "counts_non_negative") == (29 * 3 * 2, 0)
    assert not result.violation_list


def test_error_injected_in_a_split_column_is_found_at_its_cell(t2005: Table) -> None:
    where = {"statsborgerskap": "Sverige", GROUP_DIMENSION: SAME_2005, "contents": "Innvandring"}
    result = audit([_with_value(t2005, 10, **where)], cross_table=False)
    assert _checks(result, "net_immigration")[1] == 1
    assert _checks(result, f"inferred_total_{GROUP_DIMENSION}")[1] == 1
    failed = {(v.rule, v.where[GROUP_DIMENSION], v.where["contents"]) for v in result.violation_list}
    assert failed == {("net_immigration", SAME_2005, "Nettoinnvandring"),
                      (f"inferred_total_{GROUP_DIMENSION}", "I alt", "Innvandring")}
    assert {tuple(sorted(s.items())) for s in _suspects(result)} == {
        tuple(sorted({**where, "time": "2005"}.items()))}


# --- held out: read and checked as they came ---------------------------------------------------
def test_held_out_2011_table_with_footnoted_headers() -> None:
    """Footnote markers on two measure headers, and a comma inside the 'other' header."""
    table = read(T2011)[0]
    groups = table.dimensions[1].labels
    assert groups[2] == ("Statsborgerskapet er ulikt fra-/tilflyttingslandet, eller fra-/tilflyttingslandet "
                         "er uoppgitt")
    assert table.dimensions[2].labels == ("Innvandring", "Utvandring", "Nettoinnvandring")
    result = audit([table], cross_table=False)
    assert _checks(result, "net_immigration") == (26 * 3, 0)
    assert _checks(result, f"inferred_total_{GROUP_DIMENSION}") == (26 * 3, 0)
    assert not result.violation_list
    bad = audit([_with_value(table, -7, statsborgerskap="Polen", column_group=groups[2], contents="Utvandring")],
                cross_table=False)
    assert {(v.rule, v.where["statsborgerskap"]) for v in bad.violation_list} == {
        ("net_immigration", "Polen"), (f"inferred_total_{GROUP_DIMENSION}", "Polen")}
    assert [s[GROUP_DIMENSION] for s in _suspects(bad)] == [groups[2]] * 2


def test_held_out_1997_moves_abroad() -> None:
    table = read(T1997)[0]
    cube = Cube.of(table)
    d = cube.structure.dimension(GROUP_DIMENSION)
    assert [c.role for c in d.categories] == ["total", "part", "part"]
    result = audit([table], cross_table=False)
    assert _checks(result, f"inferred_total_{GROUP_DIMENSION}") == (33 * 3, 0)
    assert not result.violation_list
    bad = audit([_with_value(table, 1, statsborgerskap="Tyrkia", column_group="I alt", contents="Utflyttinger")],
                cross_table=False)
    assert {(v.where["statsborgerskap"], v.where[GROUP_DIMENSION]) for v in bad.violation_list} == {("Tyrkia", "I alt")}


def test_held_out_2003_norwegian_and_foreign_column_groups() -> None:
    """Column groups that are citizenships: the shipped citizenship rule checks the split."""
    table = read(T2003)[0]
    cube = Cube.of(table)
    assert cube.dims[1].name == GROUP_DIMENSION and cube.dims[1].role == "citizenship"
    result = audit([table], cross_table=False)
    assert _checks(result, "citizenship_hierarchy") == (14 * 3, 0)  # I alt = Norske + Utenlandske
    bad = audit([_with_value(table, 100, fraflyttings_tilflyttingsland="Danmark",
                             column_group="Utenlandske statsborgere", contents="Innflyttinger")], cross_table=False)
    assert _checks(bad, "citizenship_hierarchy")[1] == 1


# --- the split itself --------------------------------------------------------------------------
def _one_row(labels: tuple[str, ...], values: list[float]) -> Table:
    col = Dimension("contents", labels, role="measure")
    row = Dimension("statsborgerskap", ("I alt",), role="citizenship")
    v = np.array([values], dtype=float)
    return Table([row, col], v, np.zeros(v.shape, dtype=np.uint8), id="x", title="x. 2005")


# the I alt row of SSB 2005 table 8, labelled as a JSON-stat ContentsCode would ("Immigration, same
# citizenship"): measures first, column groups inside
MEASURE_MAJOR = (
    ("Immigration, Total", 40148), ("Immigration, Same citizenship as country moved from/to", 28234),
    ("Immigration, Other citizenship", 11914), ("Emigration, Total", 21709),
    ("Emigration, Same citizenship as country moved from/to", 8135), ("Emigration, Other citizenship", 13574),
    ("Net immigration, Total", 18439), ("Net immigration, Same citizenship as country moved from/to", 20099),
    ("Net immigration, Other citizenship", -1660),
)


def test_labels_that_combine_a_measure_and_a_column_group() -> None:
    table = split_combined(_one_row(tuple(x for x, _ in MEASURE_MAJOR), [v for _, v in MEASURE_MAJOR]))
    assert [d.name for d in table.dimensions] == ["statsborgerskap", GROUP_DIMENSION, "contents"]
    assert table.dimensions[1].labels == ("Total", "Same citizenship as country moved from/to", "Other citizenship")
    assert table.values[0].tolist() == [[40148, 21709, 18439], [28234, 8135, 20099], [11914, 13574, -1660]]
    assert not audit([table], cross_table=False).violation_list
    assert _checks(audit([table], cross_table=False), "net_immigration") == (3, 0)


@pytest.mark.parametrize("labels", [
    ("I alt, Innvandring", "I alt, Utvandring", "Norden, Innvandring", "Norden, Utvandring", "Afrika, Innvandring"),
    ("Innvandrerbefolkningen, I alt", "Innvandrerbefolkningen, Norden", "Folkemengde i alt", "Folkemengde, x"),
    ("Menn, I alt", "Menn, Gift", "Kvinner, I alt", "Kvinner, Gift"),  # neither list is measures
    ("Innvandring, Utvandring", "Innvandring, Innvandring", "Utvandring, Utvandring", "Utvandring, Innvandring"),
])
def test_not_a_combined_axis(labels: tuple[str, ...]) -> None:
    table = _one_row(labels, [1.0] * len(labels))
    assert combined_axis(table) is None and split_combined(table) is table


@pytest.mark.parametrize(("label", "side"), [
    ("Statsborgerskap er likt fraflyttings-/tilflyttingslandet", "same"),
    ("Statsborgerskapet er ulikt fraflyttings-/tilflyttingslandet", "other"),  # "ulikt" is not "likt"
    ("Samme statsborgerskap som flyttelandet", "same"), ("Annet statsborgerskap", "other"),
    ("Øvrige statsborgerskap", "other"), ("Samma medborgarskap som utflyttningslandet", "same"),
    ("Annat medborgarskap", "other"), ("Andet statsborgerskab", "other"), ("Same citizenship", "same"),
    ("I alt", None), ("Norske statsborgere", None),
])
def test_split_words(label: str, side: str | None) -> None:
    assert vocabulary().split_side(label) == side
