"""The structure step on real published tables (tests/data/structure/README.md says where each is from).

Each real table: the roles inferred, the checks that run, no false alarm on the published
table, and an injected error found.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from migaudit.model.cube import Cube
from migaudit.model.table import Dimension, Table
from migaudit.readers import read
from migaudit.rules.ruleset import load_rules
from migaudit.runner import audit
from migaudit.structure import infer, parse_age, vocabulary
from migaudit.structure.intervals import INF, Interval, exact_cover
from migaudit.structure.units import units_of

DATA = Path(__file__).parent / "data" / "structure"
SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"


def _checks(result, rule: str) -> tuple[int, int]:
    """(checked, failed) of one rule over all tables of a result."""
    rows = [o for o in result.outcomes if o.rule.id == rule]
    return sum(o.checked for o in rows), sum(o.failed for o in rows)


def _roles(cube: Cube, dim: str) -> dict[str, str]:
    return {c.label: c.role for c in cube.structure.dimension(dim).categories}


def _with_value(table: Table, delta: float, **where: str) -> Table:
    """A copy of `table` with one cell (given by labels or codes) changed by `delta`."""
    t = copy.deepcopy(table)
    idx = []
    for d in t.dimensions:
        key = where.get(d.name)
        if key is None:
            idx.append(slice(None))
        else:
            idx.append(d.labels.index(key) if key in d.labels else d.codes.index(key))
    t.values[tuple(idx)] += delta
    return t


# --- vocabulary and intervals ------------------------------------------------------------
@pytest.mark.parametrize("label", [
    "Total", "I alt", "Begge kjønn", "Alle aldre", "Hele landet", "Heile landet", "Totalt", "Samtliga",
    "Yhteensä", "Koko maa", "Alls", "Insgesamt", "Ensemble", "Ambos sexos", "All categories: Sex",
    "All categories: Age 16 and over", "i alt",
])
def test_total_words_in_many_languages(label: str) -> None:
    assert vocabulary().is_total(label)


@pytest.mark.parametrize("label", ["Males", "Oslo", "0-4", "Norway", "Alder", "Totalisator"])
def test_parts_are_not_totals(label: str) -> None:
    assert not vocabulary().is_total(label)


def test_total_codes_and_residual_and_selection_words() -> None:
    v = vocabulary()
    assert all(v.is_total_code(c) for c in ("SSS", "_T", "TOT", "0", "00", "ALL"))
    assert not v.is_total_code("01")
    assert v.is_residual("Vest-Europa ellers") and v.is_residual("The rest of Africa")
    assert v.is_residual("Övriga länder") and v.is_residual("Muut maat")
    assert not v.is_residual("Otterøy")
    assert v.is_selection("Herav: Polen") and v.is_selection("Of which (15 largest)")
    assert v.is_subtotal("Vest-Europa i alt, unntatt Norge") and v.is_subtotal("Basic metals (total)")
    assert v.non_additive_word("Per 1 000 av middelfolkemengden") and v.non_additive_word("Prosent")
    assert v.non_additive_word("Keskiarvo") and v.non_additive_word("Medelålder") is not None
    assert v.non_additive_word("Immigration") is None


@pytest.mark.parametrize("label, lo, hi", [
    ("15–64", 15, 65), ("0 - 4", 0, 5), ("85 -", 85, INF), ("65 or over", 65, INF),
    ("Less than 15", 0, 15), ("0 years", 0, 1), ("1 year", 1, 2), ("100 years or older", 100, INF),
    ("Under 15 år", 0, 15), ("67 år og over", 67, INF), ("80 år eller eldre", 80, INF),
    ("alle 15", 0, 15), ("Age 16 to 24", 16, 25), ("110+ years", 110, INF), ("90-", 90, INF),
    ("20-24 år", 20, 25), ("80 years and older", 80, INF),
])
def test_age_labels_are_intervals(label: str, lo: int, hi: int) -> None:
    assert parse_age(label) == Interval(lo, hi)


@pytest.mark.parametrize("label", ["Total", "Oslo", "Unknown age", "Hele landet"])
def test_other_labels_are_no_intervals(label: str) -> None:
    assert parse_age(label) is None


def test_exact_cover_takes_the_coarsest_tiling_and_never_overlaps() -> None:
    bands = {0: Interval(0, 15), 1: Interval(15, 65), 2: Interval(65, INF),
             **{10 + k: Interval(5 * k, 5 * k + 5) for k in range(13)}, 30: Interval(65, INF)}
    assert exact_cover(Interval(0, INF), bands) == [0, 1, 2]
    assert exact_cover(Interval(15, 65), {k: v for k, v in bands.items() if k >= 10}) == list(range(13, 23))
    assert exact_cover(Interval(0, INF), {0: Interval(0, 15), 1: Interval(10, INF)}) is None


# --- Statistics Finland: Yhteensä / SSS -------------------------------------------------------
@pytest.fixture(scope="module")
def finland() -> Table:
    return read(DATA / "statfin_vaerak_pxt_11rc.px")[0]


def test_finnish_roles_from_names_elimination_and_codes(finland: Table) -> None:
    cube = Cube.of(finland)
    assert cube.dims[cube.axis("Sukupuoli")].role == "sex"
    assert cube.dims[cube.axis("Ikä")].role == "age"
    assert _roles(cube, "Sukupuoli") == {"Yhteensä": "total", "Miehet": "part", "Naiset": "part"}
    total = cube.structure.dimension("Ikä").categories[0]
    assert total.role == "total"
    assert "PX ELIMINATION names it" in total.evidence and "code 'SSS'" in total.evidence
    (group,) = cube.structure.dimension("Ikä").groups
    assert group.op == "==" and len(group.children) == 18 and "tile [0, ∞)" in group.evidence


def test_finnish_table_checked_without_false_alarm_and_error_found(finland: Table) -> None:
    result = audit([finland], cross_table=False)
    assert _checks(result, "sexes_sum_to_total") == (159 * 19, 0)
    assert _checks(result, "ages_sum_to_total") == (159 * 3, 0)
    broken = _with_value(finland, 1000, Vuosi="2023", Sukupuoli="Miehet", Ikä="0 - 4")
    bad = audit([broken], cross_table=False)
    assert _checks(bad, "sexes_sum_to_total")[1] == 1
    assert _checks(bad, "ages_sum_to_total")[1] == 1
    v = next(v for o in bad.outcomes for v in o.violations if o.rule.id == "ages_sum_to_total")
    assert v.where["Sukupuoli"] == "Miehet" and v.imbalance == -1000


# --- Statistics Sweden: single years, no total -------------------------------------------
def test_swedish_single_years_without_total_say_so() -> None:
    table = read(DATA / "SCB-BefolkningR1860N.px")[0]
    cube = Cube.of(table)
    d = cube.structure.dimension("age")
    assert d.total is None and not d.groups
    assert "no total or aggregate recognised" in d.note
    assert parse_age(table.dimensions[0].labels[-1]) == Interval(110, INF)
    result = audit([table], cross_table=False)
    assert not result.violations.shape[0]
    assert any(n.startswith("structure: age: no total") for n in table.notes)


# --- Statistics Canada: thousands with a decimal, per cent --------------------------------
@pytest.fixture(scope="module")
def canada(tmp_path_factory: pytest.TempPathFactory) -> Table:
    doc = json.loads((DATA / "canada.json").read_text(encoding="utf-8"))
    doc.pop("status")  # the sample's demo status "a" is not a publication symbol
    path = tmp_path_factory.mktemp("canada") / "canada.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return read(path)[0]


def test_canada_units_and_non_additive_share(canada: Table) -> None:
    units = units_of(canada)
    assert units.decimals == 1 and units.multiplier == 1000 and not units.whole_numbers
    cube = Cube.of(canada)
    roles = _roles(cube, "concept")
    assert roles["weight of age group in the population"] == "non_additive"
    assert roles["population"] == "part"
    assert _roles(cube, "sex")["total"] == "total"


def test_canada_checked_with_rounding_tolerance_and_error_found(canada: Table) -> None:
    result = audit([canada], cross_table=False)
    assert _checks(result, "sexes_sum_to_total") == (20, 0)  # populations only: shares never summed
    assert _checks(result, "ages_sum_to_total") == (3, 0)
    assert _checks(result, "counts_non_negative")[1] == 0  # 34 880.5 thousand is not a false "whole number" alarm
    bad = audit([_with_value(canada, 5.0, concept="POP", sex="M", age="4")], cross_table=False)
    v = next(v for o in bad.outcomes for v in o.violations if o.rule.id == "ages_sum_to_total")
    assert v.imbalance == pytest.approx(-5.0, abs=0.5)  # the published sums are off by rounding already
    assert "tolerance ±" in v.message and "rounded figures × 0.05" in v.message


# --- SSB: an index table never summed ------------------------------------------------------
def test_ssb_index_of_production_is_non_additive() -> None:
    table = read(DATA / "ssb_29843.json")[0]
    cube = Cube.of(table)
    roles = set(_roles(cube, "ContentsCode").values())
    assert roles == {"non_additive"}
    result = audit([table], cross_table=False)
    assert result.violations.shape[0] == 0


# --- SSB nynorsk printed table: overlapping age bands, rounded means ----------------------
@pytest.fixture(scope="module")
def tab44() -> Table:
    return read(DATA / "ssb_tab44_middelfolkemengd_1999.txt")[0]


def test_overlapping_age_bands_each_checked_against_their_own(tab44: Table) -> None:
    cube = Cube.of(tab44)
    d = cube.structure.dimension("alder")
    label = {c.index: c.label for c in d.categories}
    groups = {(label[g.parent], len(g.children)) for g in d.groups}
    assert groups == {("I alt", 8), ("I alt", 19), ("20-44", 5), ("80-", 3)}
    assert _roles(cube, "alder")["20-44"] == "aggregate"
    assert _roles(cube, "alder")["45-66"] == "part"  # no five-year bands tile 45-66: never summed
    # no group holds two overlapping bands
    for g in d.groups:
        ivs = sorted(parse_age(label[i]) for i in g.children)
        assert all(a.hi <= b.lo for a, b in zip(ivs, ivs[1:], strict=False))
    # the marital-status columns are a classification with its total, not measures
    assert cube.dims[cube.axis("contents")].role is None
    assert _roles(cube, "contents")["Sivilstand, I alt"] == "total"


def test_tab44_no_false_alarm_then_injected_error_found(tab44: Table) -> None:
    result = audit([tab44], cross_table=False)
    assert _checks(result, "ages_sum_to_total") == (32, 0)
    assert _checks(result, "inferred_total_contents") == (28, 0)
    assert units_of(tab44).half_unit == 0.5  # mean population: rounded figures
    broken = _with_value(tab44, 100, alder="25-29", contents="Sivilstand, Gifte")
    bad = audit([broken], cross_table=False)
    failed = {(v.rule, v.where["alder"]) for o in bad.outcomes for v in o.violations}
    assert ("ages_sum_to_total", "I alt") in failed and ("ages_sum_to_total", "20-44") in failed
    assert ("inferred_total_contents", "25-29") in failed
    assert ("ages_sum_to_total", "80-") not in failed


# --- unknown coverage is a bound ------------------------------------------------------------
def _counties_without_period() -> Table:
    """Births 2011, the whole country and counties 01-09 (SSB, ../shared/ssb), no period."""
    rows = [line.split(",") for line in (Path(__file__).resolve().parents[1].parent / "shared" / "ssb"
                                         / "county_annual_changes_2011_partial.csv").read_text().splitlines()[1:]]
    keep = [r for r in rows if r[0] in ("0", "01", "02", "03", "04", "05", "06", "07", "08", "09")]
    region = Dimension("region", tuple(r[0] for r in keep), tuple(r[1] for r in keep), role="region")
    measure = Dimension("contents", ("births",), ("Births",), role="measure")
    values = np.array([[float(r[3])] for r in keep])
    return Table([region, measure], values, np.zeros(values.shape, dtype=np.uint8), id="counties_no_period")


@pytest.mark.skipif(not (Path(__file__).resolve().parents[1].parent / "shared" / "ssb").is_dir(),
                    reason="needs ../shared/ssb")
def test_unknown_period_makes_coverage_a_bound() -> None:
    table = _counties_without_period()
    cube = Cube.of(table)
    assert cube.year is None
    (group,) = cube.structure.dimension("region").groups
    assert group.op == ">=" and group.reason.startswith("period unknown")
    result = audit([table], cross_table=False)
    assert _checks(result, "regions_sum_to_total") == (1, 0)
    assert any("period unknown" in n for n in table.notes)
    bad = audit([_with_value(table, 70_000, region="01")], cross_table=False)
    assert _checks(bad, "regions_sum_to_total") == (1, 1)


# --- printed layout (SSB's English seed table 12) -----------------------------------------
@pytest.mark.skipif(not SEEDS.is_dir(), reason="needs ../shared/seeds")
def test_printed_groups_closed_by_residual_rows() -> None:
    table = read(SEEDS / "000_bde9bdc2cd03acc2.txt")[0]
    cube = Cube.of(table)
    d = cube.structure.dimension("citizenship")
    label = {c.index: c.label for c in d.categories}
    by_parent = {label[g.parent]: g for g in d.groups}
    europe = by_parent["Europe total, except Norway"]
    assert europe.op == "==" and label[europe.children[-1]] == "The rest of Europe"
    assert _roles(cube, "citizenship")["The rest of Europe"] == "residual"
    # a subtotal no residual row closes is never guessed from the layout; the classification
    # may still know its members, and then says it is a bound and why
    assert all(g.op == "==" for g in d.groups if g.evidence.startswith("printed layout"))
    assert all(g.reason for g in d.groups if g.op == ">=")
    assert audit([table], cross_table=False).violations.shape[0] == 0


# --- the preview and suggest show the structure ------------------------------------------
def test_read_preview_and_suggest_show_the_structure(finland: Table, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from migaudit.cli import cli

    out = CliRunner().invoke(cli, ["read", str(DATA / "ssb_tab44_middelfolkemengd_1999.txt")])
    assert out.exit_code == 0
    assert "structure" in out.output and "20-44  [aggregate = Σ 5]" in out.output
    target = tmp_path / "rules.yaml"
    res = CliRunner().invoke(cli, ["suggest", str(DATA / "ssb_tab44_middelfolkemengd_1999.txt"), "-o", str(target)])
    assert res.exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert "# inferred structure" in text and "id: structure_alder" in text
    rules = load_rules(target, defaults=False)
    assert rules.get("structure_alder").kind == "hierarchy"


def test_structure_of_every_bundled_table_is_inferred_without_error() -> None:
    from migaudit.cli import example_release
    from migaudit.runner import collect

    tables, _ = collect([example_release()])
    for t in tables:
        s = infer(Cube.of(t))
        assert len(s.dimensions) == len(Cube.of(t).dims)


# --- SSB 2007: spanning headers, landsdeler, nested printed groups ---------------------------
def test_ssb_2007_immigrant_population_spanning_header() -> None:
    table = read(DATA / "ssb_tab9_innvandrerbefolkningen_2007.txt")[0]
    cube = Cube.of(table)
    d = cube.structure.dimension("contents")
    (group,) = d.groups
    assert d.categories[group.parent].label == "Innvandrerbefolkningen, I alt"
    assert len(group.children) == 8 and group.evidence == "spanning header 'Innvandrerbefolkningen'"
    assert _roles(cube, "contents")["Folkemengde i alt"] == "part"  # another whole: never summed with them
    result = audit([table], cross_table=False)
    assert _checks(result, "regions_sum_to_total") == (10, 0)
    assert _checks(result, "inferred_total_contents") == (20, 0)  # was 0 before the structure step
    bad = audit([_with_value(table, 50, fylke="03 Oslo", contents="Innvandrerbefolkningen, Afrika")],
                cross_table=False)
    assert _checks(bad, "regions_sum_to_total")[1] == 1
    assert _checks(bad, "inferred_total_contents")[1] == 1


def test_ssb_2007_immigrations_by_citizenship_and_landsdel() -> None:
    table = read(DATA / "ssb_tab11_innvandringer_2007_europa.txt")[0]
    cube = Cube.of(table)
    d = cube.structure.dimension("statsborgerskap")
    label = {c.index: c.label for c in d.categories}
    groups = {label[g.parent]: [label[i] for i in g.children] for g in d.groups}
    assert groups["Europa i alt, unntatt Norge"] == ["Vest-Europa i alt, unntatt Norge", "Øst-Europa i alt"]
    assert groups["Vest-Europa i alt, unntatt Norge"][-1] == "Vest-Europa ellers"
    assert groups["Øst-Europa i alt"][-1] == "Øst-Europa ellers" and len(groups["Øst-Europa i alt"]) == 15
    assert _roles(cube, "statsborgerskap")["Øst-Europa ellers"] == "residual"
    assert cube.dims[cube.axis("region")].role == "region"
    result = audit([table], cross_table=False)
    assert _checks(result, "citizenship_hierarchy") == (24, 0)  # printed groups: 0 before
    assert _checks(result, "regions_sum_to_total") == (32, 0)
    assert _checks(result, "counts_non_negative") == (256, 0)  # "Innvandringer" is immigration
    bad = audit([_with_value(table, 100, statsborgerskap="Polen", region="Vestlandet")], cross_table=False)
    failed = {(v.rule, v.where["statsborgerskap"], v.where["region"]) for o in bad.outcomes for v in o.violations}
    assert ("citizenship_hierarchy", "Øst-Europa i alt", "Vestlandet") in failed
    assert ("regions_sum_to_total", "Polen", "I alt") in failed


def test_landsdeler_columns_without_header_word_are_regions() -> None:
    """Issue 11: columns read as contents because no header word says region."""
    labels = ("I alt", "Oslo og Akershus", "Hedmark og Oppland", "Sør-Østlandet", "Agder og Rogaland",
              "Vestlandet", "Trøndelag", "Nord-Norge")
    row = Dimension("statsborgerskap", ("Norge",), role="citizenship")
    col = Dimension("contents", labels, role="measure")
    # Norge's immigrations 2007 (ssb_tab11_innvandringer_2007_europa.txt)
    values = np.array([[8276, 3159, 423, 1599, 1188, 989, 444, 474]], dtype=float)
    table = Table([row, col], values, np.zeros(values.shape, dtype=np.uint8), id="t11", title="Innvandringer. 2007")
    cube = Cube.of(table)
    assert cube.dims[1].role == "region"
    assert _checks(audit([table], cross_table=False), "regions_sum_to_total") == (1, 0)


# --- units -------------------------------------------------------------------------------
def _one_cell(**kw) -> Table:  # noqa: ANN003 - Table keywords
    dim = Dimension("contents", ("population",), role="measure")
    return Table([dim], np.array([1.0]), np.zeros(1, dtype=np.uint8), id="u", **kw)


def test_units_from_declared_decimals_multiplier_and_rounding_base() -> None:
    assert units_of(_one_cell()).half_unit == 0 and units_of(_one_cell()).whole_numbers
    millions = units_of(_one_cell(decimals=1, meta={"unit_multiplier": 6}))
    assert millions.multiplier == 1e6 and millions.half_unit == 0.05 and not millions.whole_numbers
    assert units_of(_one_cell(unit="1000 persons")).multiplier == 1000
    assert units_of(_one_cell(unit="tusen personer")).half_unit == 0.5
    ons = units_of(_one_cell(meta={"rounding_base": 5}))
    assert ons.half_unit == 2.5 and "rounded to 5" in ons.describe(3)
    mean = units_of(_one_cell(title="Middelfolkemengd etter kjønn"))
    assert mean.half_unit == 0.5 and "middelfolkemengd" in mean.rounded_because


def test_reports_say_why_a_table_has_no_checks() -> None:
    from migaudit.report import render

    table = read(DATA / "SCB-BefolkningR1860N.px")[0]
    text = render(audit([table], cross_table=False), "markdown")
    assert "structure: age: no total or aggregate recognised" in text


def _translated(table: Table, lang: str) -> Table:
    """The same published figures under the file's own translation (PX VALUES[sv], VALUES[en]),
    with codes equal to labels and no ELIMINATION: only the words can tell the total."""
    tr = table.meta["translations"][lang]
    names = {"Vuosi": {"sv": "År", "en": "Year"}, "Sukupuoli": {"sv": "Kön", "en": "Sex"},
             "Ikä": {"sv": "Ålder", "en": "Age"}, "Tiedot": {"sv": "Uppgifter", "en": "Information"}}
    dims = []
    for d in table.dimensions:
        name = names[d.name][lang]
        labels = tr[f'VALUES("{name}")']
        labels = (labels,) if isinstance(labels, str) else tuple(labels)
        dims.append(Dimension(name, labels, labels, role=d.role if d.role in ("time", "measure") else None))
    return Table(dims, table.values.copy(), table.symbols.copy(), id=f"11rc_{lang}")


@pytest.mark.parametrize("lang, total, male", [("sv", "Totalt", "Män"), ("en", "Total", "Males")])
def test_finnish_table_in_its_swedish_and_english_labels(finland: Table, lang: str, total: str, male: str) -> None:
    table = _translated(finland, lang)
    cube = Cube.of(table)
    sex = "Kön" if lang == "sv" else "Sex"
    assert cube.dims[cube.axis(sex)].role == "sex"
    assert _roles(cube, sex)[total] == "total" and _roles(cube, sex)[male] == "part"
    result = audit([table], cross_table=False)
    assert _checks(result, "sexes_sum_to_total") == (159 * 19, 0)
    assert _checks(result, "ages_sum_to_total") == (159 * 3, 0)


# --- a file's own hierarchy (JSON-stat child, PX HIERARCHIES → meta["hierarchies"]) ------
def test_file_hierarchy_gives_total_aggregates_and_parts() -> None:
    doc = json.loads((DATA / "jsonstat_hierarchy_abs_cpi.json").read_text(encoding="utf-8"))
    cat = doc["dimension"]["commodity"]["category"]
    codes = tuple(cat["index"])
    dim = Dimension("commodity", codes, tuple(cat["label"][c] for c in codes))
    values = np.full(len(codes), np.nan)
    table = Table([dim], values, np.zeros(len(codes), dtype=np.uint8), id="cpi",
                  meta={"hierarchies": {"commodity": cat["child"]}})
    d = infer(Cube.of(table)).dimension("commodity")
    roles = {c.code: c for c in d.categories}
    assert roles["T"].role == "total" and roles["1"].role == "aggregate" and roles["1.1.1"].role == "part"
    assert "file hierarchy: child of '1.1'" in roles["1.1.1"].evidence
    assert len(d.groups) == len(cat["child"]) and all(g.op == "==" for g in d.groups)
    assert d.total == codes.index("T")


def test_ons_total_of_some_ages_is_checked_against_its_own_bands() -> None:
    """ONS census option labels (dimension options of the 2011 census API, as published)."""
    labels = ("All categories: Age 16 and over", "Age 16 to 24", "Age 25 to 34", "Age 35 to 49", "Age 50 and over")
    age = Dimension("Age", tuple(f"DO00026{k}" for k in range(5, 10)), labels)
    sex = Dimension("Sex", ("DO000153", "DO000154"), ("Male", "Female"))
    table = Table([age, sex], np.full((5, 2), np.nan), np.zeros((5, 2), dtype=np.uint8), id="ons")
    cube = Cube.of(table)
    assert cube.dims[0].role == "age" and cube.dims[1].role == "sex"
    (group,) = cube.structure.dimension("Age").groups
    assert group.op == "==" and len(group.children) == 4 and "[16, ∞)" in group.evidence
    assert "no total" in cube.structure.dimension("Sex").note  # Male, Female: nothing to sum them to


def test_a_total_named_after_its_dimension() -> None:
    """Statistics Denmark's "Alder i alt" and "Køn i alt" (StatBank FOLK1A), SSB's "Alder i alt"."""
    age = Dimension("Alder", ("IALT", "0", "1"), ("Alder i alt", "0 år", "1 år"))
    sex = Dimension("Køn", ("TOT", "1", "2"), ("I alt", "Mænd", "Kvinder"))
    table = Table([age, sex], np.full((3, 3), np.nan), np.zeros((3, 3), dtype=np.uint8), id="dk")
    cube = Cube.of(table)
    assert _roles(cube, "Alder")["Alder i alt"] == "total"
    assert _roles(cube, "Køn") == {"I alt": "total", "Mænd": "part", "Kvinder": "part"}
    assert cube.dims[0].role == "age" and cube.dims[1].role == "sex"


def test_each_group_gets_its_own_rounding_tolerance(tab44: Table) -> None:
    """A small group (80- = 80-84 + 85-89 + 90-) is held to 4 × 0.5, not the 19 bands' 20 × 0.5."""
    bad = audit([_with_value(tab44, 4, alder="85-89", contents="Sivilstand, Gifte")], cross_table=False)
    found = [v for o in bad.outcomes for v in o.violations if o.rule.id == "ages_sum_to_total"]
    assert [(v.where["alder"], v.tolerance) for v in found] == [("80-", 2.0)]
    assert "tolerance ±2 from rounding (4 rounded figures × 0.5" in found[0].message


@pytest.mark.parametrize("labels, op", [
    (["0-4 years", "5-9 years", "10-14 years"], "=="),  # no gap from 0: nothing older published
    (["20-24 år", "25-34 år", "45-64 år"], ">="),          # gaps: the total is only a bound
])
def test_bands_that_do_not_tile_all_ages(labels: list[str], op: str) -> None:
    age = Dimension("age", ("T", *map(str, range(len(labels)))), ("Total", *labels))
    table = Table([age], np.full(len(labels) + 1, np.nan), np.zeros(len(labels) + 1, dtype=np.uint8), id="a")
    (group,) = Cube.of(table).structure.dimension("age").groups
    assert group.op == op and (group.reason != "") == (op == ">=")


def test_a_table_whose_unit_is_an_index_is_never_summed() -> None:
    """Held-out Statistics Sweden CPI file (UNITS="Index", a product-group hierarchy): the
    published index of "All products" is not the sum of its groups' indices. Before the unit
    was read, every month of the consistent published table was an error."""
    from migaudit.structure.units import units_of

    f = Path(__file__).resolve().parent / "data" / "real" / "se_PR0101B3hier2lang.px"
    table = read(f)[0]
    assert units_of(table).non_additive == "index"
    result = audit([table], cross_table=False)
    assert not [v for v in result.violation_list if v.severity == "error"]
    assert not [o for o in result.outcomes if o.rule.kind == "hierarchy"]
    counts = read(Path(__file__).resolve().parent / "data" / "real" / "se_BE0101F1nilSymbol.px")[0]
    assert units_of(counts).non_additive is None


# --- groups the table shows but no sum checks say so (issue 11: never a silent 0 checks) ---
REAL = Path(__file__).resolve().parent / "data" / "real"


@pytest.mark.parametrize(("path", "why"), [
    (REAL / "se_PR0101B3hier.px", "the table's unit 'Index' is an index"),   # CPI with PX HIERARCHIES
    (REAL / "se_HA0201E8.px", "the table's unit 'index' is an index"),       # import volume index, ELIMINATION
    (REAL / "au_abs_hierarchy.json", "the table holds no figures"),          # JSON-stat `child`, no values
])
def test_groups_that_are_never_summed_say_why_in_preview_and_report(path: Path, why: str) -> None:
    from click.testing import CliRunner

    from migaudit.cli import cli
    from migaudit.report import render

    table = read(path)[0]
    (d,) = [d for d in Cube.of(table).structure.dimensions if d.groups]
    assert d.note.endswith(f"{why}: figures that do not add up, so these groups are shown but never checked") \
        or d.note == f"{why}, so these groups are shown but never checked"
    preview = " ".join(CliRunner().invoke(cli, ["read", str(path)]).output.split())
    assert f"! {why}" in preview and "shown but never checked" in preview
    result = audit([table], cross_table=False)
    assert not [o for o in result.outcomes if o.rule.kind == "hierarchy" and o.checked]
    assert "shown but never checked" in render(result, "markdown")


def test_a_counts_table_gets_no_such_note(finland: Table) -> None:
    assert not any("never checked" in d.note for d in Cube.of(finland).structure.dimensions)
