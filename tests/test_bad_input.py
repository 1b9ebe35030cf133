"""Bad input never crashes, hangs or changes a cell (issue 9): a corpus of mutations of the real files.

Every mutation is built at test time from the real material (../shared/ssb, ../shared/seeds,
the bundled example release, expectations/*.yaml). Each must give a ReadError/RuleError
naming the file and the place, or read to the right cells; never another exception. Many
cases run through the API, a handful through the CLI (exit 2, one stderr line). Time is
bounded by a generous alarm per case, never asserted as speed.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migaudit.cli import cli
from migaudit.errors import MigauditError, ReadError, RuleError
from migaudit.model.table import Table
from migaudit.readers import MAX_LINE_BYTES, read_bytes
from migaudit.rules.ruleset import load_rule_file, load_rules
from migaudit.runner import audit, release_config, run_audit

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RELEASE = ROOT / "src" / "migaudit" / "data" / "example_release"
RULE_FILES = sorted((ROOT / "expectations").glob("*.yaml"))

WIDE = ["county_annual_changes_2011_partial.csv", "immigration_emigration_by_citizenship_group_2018.csv",
        "national_quarterly_changes_2012K4-2021K1.csv"]
PRINTED = ["000_bde9bdc2cd03acc2.txt", "001_9afe6c9cbe8ed332.txt"]
PRINTED_EXAMPLE = "000_emigration_by_citizenship_and_region_2011.txt"  # the release's copy of 000
JUNK = ["1 2a3", "nan", "inf", "1e309", "--5", "14 38O", "123456789012345678901", "NaN", "Infinity",
        "-inf", "0x1F", "1_000", "12..5", "9007199254740993"]

#: outcomes of the API corpus, for the summary printed at the end (`pytest -s`)
TALLY: dict[str, int] = {}


@contextmanager
def budget(seconds: int = 20) -> Iterator[None]:
    """A generous per-case time limit: a hang fails the case instead of stalling the suite."""
    def _alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"over {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module", autouse=True)
def _report_tally() -> Iterator[None]:
    """After the module: how many mutations each kind gave (shown with `pytest -s`)."""
    yield
    if TALLY:
        print(f"\nbad-input corpus: {sum(TALLY.values())} mutations")
        for k, n in sorted(TALLY.items()):
            print(f"  {n:5d}  {k}")


def _file(name: str) -> Path:
    for folder in (SHARED / "ssb", SHARED / "seeds"):
        if (folder / name).is_file():
            return folder / name
    pytest.skip(f"{name} is not in ../shared")


Cells = dict[tuple, tuple[float | None, int]]


def cells(tables: list[Table]) -> Cells:
    """Every cell by (table id, (dimension, code) …): value (None for NaN) and symbol."""
    out: Cells = {}
    for t in tables:
        dims = t.dimensions
        for idx in np.ndindex(t.shape):
            key = (t.id, *((d.name, d.codes[i]) for d, i in zip(dims, idx, strict=True)))
            v = float(t.values[idx])
            out[key] = (None if np.isnan(v) else v, int(t.symbols[idx]))
    return out


def outcome(data: bytes, source: str) -> tuple[str, object]:
    """("error", ReadError) or ("read", cells); any other exception fails the case."""
    with budget():
        try:
            return "read", cells(read_bytes(data, source))
        except ReadError as e:
            return "error", e


def assert_clear(e: MigauditError, source: str) -> None:
    """One line naming the file and, unless the bytes are no table at all, the place."""
    text = str(e)
    assert "\n" not in text and source in text, text
    if "not a table format" not in text and "file is empty" not in text:
        assert e.where and re.search(r"line \d+", e.where), text


def tally(kind: str) -> None:
    TALLY[kind] = TALLY.get(kind, 0) + 1


# --- wide CSV and printed tables: junk cells ------------------------------------------------
def _numeric_spots(text: str, sep: str, first_row: int, count: int) -> list[tuple[int, int, str]]:
    """(line index, cell index, original) of numeric cells spread over the body."""
    lines = text.split("\n")
    spots = []
    for n in range(first_row, len(lines)):
        cells_ = lines[n].split(sep)
        for j in range(1, len(cells_)):
            if re.fullmatch(r"-?\d[\d ]*", cells_[j].strip()):
                spots.append((n, j, cells_[j]))
    step = max(1, len(spots) // count)
    return spots[::step][:count]


@pytest.mark.parametrize("name", WIDE + PRINTED)
def test_junk_cells_are_errors_naming_line_column_and_keys(name: str) -> None:
    path = _file(name)
    text = path.read_text(encoding="utf-8")
    sep = "\t" if name in PRINTED else ","
    first = 1 if sep == "," else next(i for i, ln in enumerate(text.split("\n")) if ln.startswith("Total\t"))
    spots = _numeric_spots(text, sep, first, 4)
    assert len(spots) == 4
    for n, j, _ in spots:
        lines = text.split("\n")
        row = lines[n].split(sep)
        label = row[0].strip()
        for junk in JUNK:
            row2 = list(row)
            row2[j] = junk
            lines[n] = sep.join(row2)
            kind, res = outcome("\n".join(lines).encode(), str(path))
            assert kind == "error", (name, n, j, junk)
            assert isinstance(res, ReadError)
            assert_clear(res, str(path))
            assert res.where.startswith(f"line {n + 1}"), (junk, str(res))
            assert label in res.message, (junk, str(res))  # the cell's row key
            assert f"column {j + 1}" in str(res), (junk, str(res))
            tally("junk cell → error")


# --- truncation at many points ----------------------------------------------------------------
@pytest.mark.parametrize("name", WIDE + PRINTED)
def test_truncation_gives_an_error_or_the_right_cells(name: str) -> None:
    """Cut the file at 40 points: an error with the place, or cells that are the original's.

    A cut inside the very last cell of a row leaves a shorter number nothing can tell from a
    real one (`1 930` → `1 9` is caught by the grouping, `930` → `93` is not): those cells
    are allowed to differ and are counted, never anywhere else.
    """
    path = _file(name)
    data = path.read_bytes()
    original = cells(read_bytes(data, str(path)))
    points = sorted({int(len(data) * k / 40) for k in range(1, 40)} | {data.index(b"\n") + 1})
    for cut in points:
        chunk = data[:cut]
        kind, res = outcome(chunk, str(path))
        if kind == "error":
            assert isinstance(res, ReadError)
            assert_clear(res, str(path))
            tally("truncation → error")
            continue
        assert isinstance(res, dict)
        last = chunk.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")
        cut_label = last.split("\t" if name in PRINTED else ",")[0].strip() if not chunk.endswith(b"\n") else None
        for key, cell in res.items():
            if key in original and original[key] == cell:
                continue
            assert cut_label and any(cut_label in str(part) for part in key), (cut, key, cell, original.get(key))
            tally("truncation inside the last cell (value cut short, undetectable)")
        tally("truncation → right cells")


# --- structure: duplicates, cut-short rows, header only, extra cells ---------------------------
def _structural(text: str, sep: str, body: int) -> dict[str, str]:
    lines = text.split("\n")
    header = lines[body - 1]
    row = lines[body + 1]
    cut_row = sep.join(row.split(sep)[:-1])
    return {
        "duplicate row": "\n".join(lines[: body + 2] + [row] + lines[body + 2:]),
        "row cut short": "\n".join(lines[: body + 1] + [cut_row] + lines[body + 2:]),
        "row with an extra cell": "\n".join(lines[: body + 1] + [row + sep + "17"] + lines[body + 2:]),
        "header only": "\n".join(lines[:body]) + "\n",
        "header without final newline": "\n".join(lines[:body]),
        "duplicate column": "\n".join(lines[: body - 1] + [header + sep + header.split(sep)[-1]] + lines[body:]),
    }


@pytest.mark.parametrize("name", WIDE + PRINTED)
def test_structural_damage_is_an_error_naming_the_line(name: str) -> None:
    path = _file(name)
    text = path.read_text(encoding="utf-8")
    sep = "\t" if name in PRINTED else ","
    body = 1 if sep == "," else next(i for i, ln in enumerate(text.split("\n")) if ln.startswith("Total\t"))
    for what, bad in _structural(text, sep, body).items():
        if what == "duplicate column" and sep == "\t":
            continue  # a printed header spans two lines; covered by the reader's own tests
        kind, res = outcome(bad.encode(), str(path))
        assert kind == "error", (name, what)
        assert isinstance(res, ReadError)
        assert_clear(res, str(path))
        assert "not a table format" not in str(res), (what, str(res))
        tally(f"{what} → error")


# --- numbers and encodings that must read to the same cells -----------------------------------
@pytest.mark.parametrize("name", WIDE + PRINTED)
def test_harmless_variants_read_to_the_same_cells(name: str) -> None:
    """BOM, CRLF, NBSP/thin-space thousands and Windows-1252: detected and read exactly."""
    path = _file(name)
    data = path.read_bytes()
    original = cells(read_bytes(data, str(path)))
    text = data.decode("utf-8")
    variants = {
        "BOM": b"\xef\xbb\xbf" + data,
        "CRLF": data.replace(b"\n", b"\r\n"),
        "Windows-1252": text.replace("\u2212", "-").encode("cp1252"),
    }
    if name in PRINTED:
        for space in ("\u00a0", "\u2009", "\u202f"):
            variants[f"U+{ord(space):04X} thousands"] = re.sub(r"(?<=\d) (?=\d{3}\b)", space, text).encode()
    for what, bad in variants.items():
        kind, res = outcome(bad, str(path))
        assert kind == "read", (what, res)
        assert res == original, what
        tally(f"{what} → same cells")


@pytest.mark.parametrize("name", ["002_9f646cd996dae96d.txt", "004_99fd64565a2b4c95.txt"])
@pytest.mark.parametrize("space", ["\u00a0", "\u2009", "\u202f"])
def test_web_pages_with_browser_spaces_are_detected(name: str, space: str) -> None:
    """Browsers copy thousands separators as NBSP or (narrow) thin spaces: detection sees
    through them as the web-text reader does, instead of "not a table format"."""
    data = _file(name).read_bytes()
    variant = re.sub(r"(?<=\d) (?=\d)", space, data.decode("utf-8")).encode("utf-8")
    assert variant != data
    kind, res = outcome(variant, name)
    assert kind == "read", str(res)
    assert res == cells(read_bytes(data, name))
    tally("web page with browser spaces → same cells")


def test_a_line_of_many_megabytes_is_refused_at_once(tmp_path: Path) -> None:
    for name in PRINTED[:1] + WIDE[:1]:
        data = _file(name).read_bytes()
        sep = b"\t" if name in PRINTED else b","
        line = data.split(b"\n")[8] if name in PRINTED else data.split(b"\n")[2]
        long_row = sep.join([line.split(sep)[0]] + [b"1"] * (MAX_LINE_BYTES // 2 + 10))
        kind, res = outcome(data + b"\n" + long_row + b"\n", name)
        assert kind == "error" and "line longer than" in str(res), str(res)
        assert_clear(res, name)  # type: ignore[arg-type]
        tally("long line → error")


def test_header_only_files_name_the_line() -> None:
    for name, head, line in [(WIDE[2], 1, 1), (PRINTED[0], 8, 8)]:
        lines = _file(name).read_text(encoding="utf-8").split("\n")
        kind, res = outcome("\n".join(lines[:head]).encode(), name)
        assert kind == "error", name
        assert isinstance(res, ReadError) and res.where == f"line {line}", str(res)
        assert "no data rows" in res.message or "no data rows" in str(res), str(res)


def test_folder_without_tables_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(ReadError, match="no table found"):
        audit([tmp_path])


# --- rule files ---------------------------------------------------------------------------------
def _rule_error(text: str, tmp_path: Path, name: str = "rules.yaml", encoding: str = "utf-8") -> RuleError:
    f = tmp_path / name
    f.write_bytes(text.encode(encoding))
    with budget(), pytest.raises(RuleError) as e:
        load_rule_file(f)
    assert_clear(e.value, str(f))
    return e.value


def _splice_first_rule(path: Path, insert: str) -> str:
    """The rule file with `insert` (lines of one key) in its first rule, replacing that key."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r"^  - id: .*\n((?:    .*\n|      .*\n|\s*\n)*)", text, re.M)
    assert m
    key = insert.strip().split(":", 1)[0]
    body = re.sub(rf"^    {key}:.*\n(?:      .*\n)*", "", m.group(1), flags=re.M)
    return text[: m.start(1)] + insert + body + text[m.end(1):]


def _alias_bomb(levels: int = 9) -> str:
    out = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, levels):
        out += f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n"
    return out


RULE_MUTATIONS: dict[str, tuple[str, str]] = {
    # name: (text spliced after the first rule's id line, a fragment the error must contain)
    "along is a number": ("    along: 5\n", "along must be a dimension name"),
    "tolerance .nan": ("    tolerance: .nan\n", "not a finite non-negative number"),
    "tolerance .inf": ("    tolerance: .inf\n", "not a finite non-negative number"),
    "tolerance negative": ("    tolerance: -1\n", "not a finite non-negative number"),
    "tolerance text": ("    tolerance: lots\n", "not a finite non-negative number"),
    "unknown key": ("    sevrity: warning\n", "did you mean 'severity'"),
    "misspelt dimension": ("    along: regoin\n", "did you mean 'region'"),
    "when on a misspelt quarter": ("    when: {time: [Q1, Q5]}\n", "unknown period condition 'Q5'"),
    "when is a list": ("    when: [Q1]\n", "must map a dimension"),
    "exclude misspelt measure": ("    exclude: {measure: [net_migraton]}\n", "did you mean 'net_migration'"),
    "severity typo": ("    severity: eror\n", "did you mean 'error'"),
    "duplicate key": ("    description: one\n    description: two\n", "given twice"),
    "alias": ("    description: *x\n", "alias"),
}


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_rule_file_mutations_are_rule_errors(path: Path, tmp_path: Path) -> None:
    for what, (insert, fragment) in RULE_MUTATIONS.items():
        e = _rule_error(_splice_first_rule(path, insert), tmp_path, path.name)
        assert fragment in str(e), (what, str(e))
        assert "rules[0]" in str(e) or "line" in str(e), (what, str(e))
        tally(f"rule file: {what} → error")


def test_rule_file_whole_file_mutations(tmp_path: Path) -> None:
    real = (ROOT / "expectations" / "population_changes.yaml").read_text(encoding="utf-8")
    cases = {
        "alias bomb": (_alias_bomb() + real, "alias"),
        "deep flow nesting": ("family: x\nrules: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested deeper"),
        "deep block nesting": ("family: x\nrules:\n" + "".join(" " * i + "- \n" for i in range(1, 300)), "nesting deeper"),
        "Latin-1": ("family: befolkning\ndescription: Befolkningsendringer på kvartal\nrules: []\n", "not UTF-8"),
        "rules a mapping": ("family: x\nrules: {a: 1}\n", "must be a list"),
        "rules a string": ("family: x\nrules: births\n", "must be a list"),
        "family a list": ("family: [a, b]\nrules: []\n", "family must be a name"),
        "unknown file key": (real.replace("family:", "familly: x\nfamily:", 1), "did you mean 'family'"),
        "measure typo in expr": (real.replace("net_migration = immigration - emigration\n",
                                              "net_migraton = immigration - emigration\n", 1), "did you mean 'net_migration'"),
        "unknown classification": ((ROOT / "expectations" / "migration_by_citizenship.yaml").read_text(encoding="utf-8").replace("classification: auto",
                                                                                    "classification: autoo"), "unknown classification"),
        "python tag": ("family: x\nrules: !!python/object/apply:os.system [echo hi]\n", "malformed YAML"),
        "hierarchy cycle": ("family: x\nrules:\n  - id: c\n    kind: hierarchy\n    along: citizenship\n    groups:\n"
                            "      - {parent: Europe, children: [Nordic, Baltic]}\n"
                            "      - {parent: Nordic, children: [Europe]}\n", "cycle"),
        "group is its own child": ("family: x\nrules:\n  - id: c\n    kind: hierarchy\n    along: region\n    groups:\n"
                                   "      - {parent: Total, children: [Total, Oslo]}\n", "itself"),
        "group with unknown key": ("family: x\nrules:\n  - id: c\n    kind: hierarchy\n    along: region\n    groups:\n"
                                   "      - {parent: Total, childs: [A], children: [B]}\n", "did you mean 'children'"),
        "from_labels as text": ("family: x\nrules:\n  - id: c\n    kind: hierarchy\n    along: region\n"
                                "    from_labels: 'yes'\n", "true or false"),
        "if_missing names no member": ("family: x\nrules:\n  - id: c\n    kind: identity\n"
                                       "    expr: growth = births - deaths\n    if_missing: {adjustment: info}\n", "not in expr"),
        "tab indentation": ("family: x\nrules:\n\t- id: c\n", "malformed YAML"),
        "several documents": ("family: x\nrules: []\n---\nfamily: y\nrules: []\n", "malformed YAML"),
    }
    for what, (text, fragment) in cases.items():
        enc = "latin-1" if what == "Latin-1" else "utf-8"
        e = _rule_error(text, tmp_path, encoding=enc)
        assert fragment in str(e), (what, str(e))
        tally(f"rule file: {what} → error")


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_truncated_rule_files_error_or_keep_every_whole_rule(path: Path, tmp_path: Path) -> None:
    """Cut a rule file at 30 points: a RuleError with the place, or the rules before the cut
    exactly as in the whole file (the rule the cut falls in may lose a description's end)."""
    data = path.read_bytes()
    whole = {r.id: r for r in load_rule_file(path)}
    f = tmp_path / path.name
    for k in range(1, 30):
        f.write_bytes(data[: len(data) * k // 30])
        with budget():
            try:
                got = list(load_rule_file(f))
            except RuleError as e:
                assert_clear(e, str(f))
                tally("rule file truncation → error")
                continue
        for r in got[:-1]:
            assert r.id in whole and replace(r, source=whole[r.id].source) == whole[r.id], r.id
        tally("rule file truncation → whole rules")


def test_rules_folder_without_rule_files_and_yml(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not rules", encoding="utf-8")
    with pytest.raises(RuleError, match=r"no rule file \(\*\.yaml, \*\.yml\)"):
        load_rules(empty)
    yml = tmp_path / "yml"
    yml.mkdir()
    (yml / "mine.yml").write_text("family: mine\nrules:\n  - {id: mine_net, kind: identity, "
                                  "expr: net_migration = immigration - emigration}\n", encoding="utf-8")
    assert "mine_net" in {r.id for r in load_rules(yml)}


# --- migaudit.yaml --------------------------------------------------------------------------
CONFIG_MUTATIONS: dict[str, tuple[str, str]] = {
    "families as a list": ("families: [a, b]\n", "families must map"),
    "unknown key": ("acept: []\n", "did you mean 'accept'"),
    "accept a mapping": ("accept: {rule: x}\n", "accept must be a list"),
    "accept entry unknown key": ("accept:\n  - {rule: x, table: y, reason: z, were: {a: b}}\n", "did you mean 'where'"),
    "accept entry incomplete": ("accept:\n  - rule: x\n", "needs rule, table, where and reason"),
    "where a list": ("accept:\n  - {rule: x, table: y, reason: z, where: [a]}\n", "where must map"),
    "files a mapping": ("files: {a: b}\n", "must be a name or a list"),
    "alias bomb": (_alias_bomb(), "alias"),
    "not a mapping": ("- a\n- b\n", "must be a mapping"),
    "top-level scalar": ("files\n", "must be a mapping"),
}


def test_release_config_mutations_are_rule_errors(tmp_path: Path) -> None:
    f = tmp_path / "migaudit.yaml"
    for what, (text, fragment) in CONFIG_MUTATIONS.items():
        f.write_text(text, encoding="utf-8")
        with budget(), pytest.raises(RuleError) as e:
            release_config(tmp_path)
        assert fragment in str(e.value), (what, str(e.value))
        assert_clear(e.value, str(f))
        tally(f"migaudit.yaml: {what} → error")
    f.write_bytes("# Utvandring, Trøndelag\nfiles: [a.txt]\n".encode("latin-1"))
    with pytest.raises(RuleError, match="line 1.*not UTF-8"):
        release_config(tmp_path)


def test_files_as_a_string_is_one_file(tmp_path: Path) -> None:
    release = tmp_path / "release"
    shutil.copytree(RELEASE, release)
    (release / "migaudit.yaml").write_text("files: 000_emigration_by_citizenship_and_region_2011.txt\n",
                                           encoding="utf-8")
    result = run_audit([release], [], cross_table=False)
    assert [t.id for t in result.tables] == ["12"]


def test_accept_matching_nothing_is_a_warning(tmp_path: Path) -> None:
    release = tmp_path / "release"
    shutil.copytree(RELEASE, release)
    cfg = (release / "migaudit.yaml").read_text(encoding="utf-8")
    (release / "migaudit.yaml").write_text(cfg.replace('year: "2015"', 'year: "2016"'), encoding="utf-8")
    result = run_audit([release], [], cross_table=False)
    assert len(result.warnings) == 1 and "matches no finding" in result.warnings[0]
    assert "migaudit.yaml:line" in result.warnings[0]
    assert result.to_dict()["warnings"] == result.warnings
    emigration = [v for v in result.violation_list if v.rule == "norwegian_plus_foreign_emigration"]
    assert emigration and all(v.severity == "error" for v in emigration)  # nothing accepted by mistake


def test_user_rule_that_applies_nowhere_is_reported_not_applied(tmp_path: Path) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text("family: mine\nrules:\n  - id: education_total\n    kind: identity\n"
                 "    expr: education_all = education_a + education_b\n", encoding="utf-8")
    result = run_audit([RELEASE / "national_quarterly_changes_2012K4-2021K1.csv"], [f], cross_table=False)
    why = {n.rule: n.why for n in result.not_applied}
    assert "education_all, education_a, education_b" in why["education_total"]
    assert {"rule": "education_total", "why": why["education_total"]} in result.to_dict()["not_applied"]


# --- hypothesis: the rule loader never fails otherwise -----------------------------------------
_KEYS = ["id", "kind", "description", "severity", "tolerance", "when", "only", "exclude", "along", "expr",
         "when_absent", "if_missing", "sum_over", "classification", "groups", "from_labels", "complete", "op",
         "integer", "measures", "parent", "children", "family", "rules", "births", "time", "region"]
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
                     st.text(max_size=12), st.sampled_from(["identity", "hierarchy", "sign", "conservation",
                                                            "period_sum", "error", "auto", "region", "@total",
                                                            "births - deaths", "a = b - c", "Q1", ">="]))
_YAML = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=5)), max_leaves=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(rules=st.lists(st.dictionaries(st.sampled_from(_KEYS), _YAML, max_size=7), max_size=4),
       family=_SCALARS)
def test_fuzz_rule_documents(rules: list, family: object, tmp_path: Path) -> None:
    f = tmp_path / "fuzz.yaml"
    f.write_text(yaml.safe_dump({"family": family, "rules": rules}, allow_unicode=True), encoding="utf-8")
    _loads_or_rule_error(lambda: load_rule_file(f))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_rule_file_bytes(data: st.DataObject, tmp_path: Path) -> None:
    """Random byte edits of the real rule files: a RuleError or a rule set, never another exception."""
    path = data.draw(st.sampled_from(RULE_FILES))
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = data.draw(st.sampled_from([b"&a", b"*a", b"[", b"{", b":", b"- ", b"\t", b"\xe9", b"'", b"\n",
                                           b"!!python/name:os.system", b"<<: *a", b".nan", b"---\n"])
                          | st.binary(max_size=6))
        if op == "insert":
            raw[at:at] = chunk
        elif op == "delete":
            del raw[at: at + len(chunk)]
        else:
            raw[at: at + len(chunk)] = chunk
    f = tmp_path / path.name
    f.write_bytes(bytes(raw))
    _loads_or_rule_error(lambda: load_rule_file(f))


def _loads_or_rule_error(load: Callable[[], object]) -> None:
    with budget():
        try:
            load()
        except RuleError as e:
            assert "\n" not in str(e) and "fuzz.yaml" in str(e) or ".yaml" in str(e)


_CONFIG_KEYS = ["files", "rules", "families", "accept", "rule", "table", "where", "reason", "year", "acept"]
_CONFIG = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_CONFIG_KEYS), inner, max_size=4)), max_leaves=10)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(doc=st.dictionaries(st.sampled_from(_CONFIG_KEYS), _CONFIG, max_size=4))
def test_fuzz_release_config(doc: dict, tmp_path: Path) -> None:
    """Any migaudit.yaml: a RuleError, or lists of names, a mapping of families and complete accept entries."""
    (tmp_path / "migaudit.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with budget():
        try:
            cfg = release_config(tmp_path)
        except RuleError as e:
            assert_clear(e, "migaudit.yaml")
            return
    assert set(cfg) <= {"files", "rules", "families", "accept"}
    for key in ("files", "rules"):
        assert all(isinstance(x, str) and x for x in cfg.get(key, []))
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in cfg.get("families", {}).items())
    for a in cfg.get("accept", []):
        assert {"rule", "table", "where", "reason"} <= set(a) and isinstance(a["where"], dict)


# --- hypothesis: one cell of a wide CSV replaced by anything -----------------------------------
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_one_wide_csv_cell(data: st.DataObject) -> None:
    """Any text in one numeric cell: a ReadError naming its line, or the same table with that
    one cell read as the text says; never a column moved out of the table or a key invented."""
    name = data.draw(st.sampled_from(WIDE))
    path = SHARED / "ssb" / name
    if not path.is_file():
        pytest.skip("../shared/ssb is not beside the project")
    text = path.read_text(encoding="utf-8")
    n, j, old = data.draw(st.sampled_from(_numeric_spots(text, ",", 1, 30)))
    new = data.draw(st.text(alphabet="0123456789 -+.,:eEinfaO*r\u2212\u00a0", max_size=8)
                    | st.sampled_from(JUNK + ["..", ".", "-", ":", "", "12*", "r5", "1 234"]))
    if "," in new:
        new = f'"{new}"'
    lines = text.split("\n")
    row = lines[n].split(",")
    row[j] = new
    lines[n] = ",".join(row)
    before = read_bytes(text.encode(), str(path))[0]
    kind, res = outcome("\n".join(lines).encode(), str(path))
    if kind == "error":
        assert isinstance(res, ReadError) and res.where and res.where.startswith(f"line {n + 1}"), str(res)
        return
    assert isinstance(res, dict)
    original = cells([before])
    assert set(res) == set(original), "the table's shape changed"
    changed = [k for k in res if res[k] != original[k]]
    assert len(changed) <= 1, changed
    if changed:
        from migaudit.readers import parse_exact_cell

        bare = new.strip('"').strip()
        value, code = parse_exact_cell(bare) if bare else (None, 3)  # empty: '..' (not published)
        got = res[changed[0]]
        assert got[1] == code and (got[0] == value or (got[0] is None and value != value)), (new, got)


# --- the CLI: a handful of cases, exit 2 and one line ---------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migaudit.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_cli_bad_inputs_exit_2_with_one_line(tmp_path: Path) -> None:
    release = tmp_path / "release"
    release.mkdir()
    csv = release / WIDE[2]
    lines = (RELEASE / WIDE[2]).read_text(encoding="utf-8").split("\n")
    lines[4] = lines[4].replace(lines[4].split(",")[2], "14 38O", 1)
    csv.write_text("\n".join(lines), encoding="utf-8")
    shutil.copy(RELEASE / PRINTED_EXAMPLE, release)
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_alias_bomb() + "family: x\nrules: []\n", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    header_only = tmp_path / "header_only.csv"
    header_only.write_text(lines[0] + "\n", encoding="utf-8")
    conf = tmp_path / "conf"
    conf.mkdir()
    shutil.copy(RELEASE / PRINTED_EXAMPLE, conf)
    (conf / "migaudit.yaml").write_text("families: [a, b]\n", encoding="utf-8")
    cases = [
        (["audit", str(release)], str(csv), "line 5 column 3"),
        (["audit", str(RELEASE / PRINTED_EXAMPLE), "--rules", str(bomb)], str(bomb), "alias"),
        (["audit", str(empty)], str(empty), "no table found"),
        (["audit", str(header_only)], str(header_only), "line 1"),
        (["audit", str(conf)], "migaudit.yaml", "families"),
        (["audit", str(RELEASE / PRINTED_EXAMPLE), "--rules", str(empty)], str(empty), "no rule file"),
    ]
    for k, (args, names, fragment) in enumerate(cases):
        if k < 3:  # a real process: exit code and stderr as a CI job sees them
            res = _cli(*args)
            code, err = res.returncode, res.stderr
        else:  # the same command in-process (a process per case costs seconds of imports)
            run = CliRunner().invoke(cli, args)
            code, err = run.exit_code, run.stderr
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert names in err and fragment in err, err
        tally("CLI → exit 2, one line")

