"""Reports (text, JUnit, Markdown, HTML) and the `audit` command's formats and exit codes.

Results come from real SSB tables with errors injected, so every report is exercised on
the labels, hierarchies and cross-table keys it will meet in a release.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import migaudit
from migaudit.model.table import Dimension, Table
from migaudit.readers import tidy
from migaudit.report import html as html_report
from migaudit.report import junit, markdown, render, text
from migaudit.result import AuditResult

SCRIPT = "<script>alert(1)</script>"


def _figure(tid: str, value: float, year: str = "2011") -> Table:
    """A one-cell table publishing immigration in `year`: two of these must agree."""
    dims = [Dimension("contents", ("Immigration",), role="measure"), Dimension("time", (year,), role="time")]
    return Table(dims, np.array([[value]]), np.zeros((1, 1)), id=tid, title=f"Immigration {tid}", source=f"{tid}.json")


def _immigration(seeds: Path) -> Table:
    return migaudit.read(seeds / "001_9afe6c9cbe8ed332.txt")[0]


@pytest.fixture(scope="module")
def result(seeds: Path, ssb: Path) -> AuditResult:
    """01222 with a wrong births cell, the 2011 immigration table with a wrong country cell
    (Denmark × Hedmark and Oppland, +100), a row label holding markup, two tables that
    publish the same figure differently (in 2030, so table 11's 2011 total stays out of
    it), and a suspect set by hand."""
    t01222 = migaudit.read(ssb / "01222_five_regions_DERIVED.jsonstat2.json")[0]
    t01222.values[0, 0, 3] += 5  # Halden, births, 2015K2
    imm = _immigration(seeds)
    imm.values[3, 2] += 100  # Denmark, Hedmark and Oppland
    d = imm.dimensions[0]
    labels = list(d.labels)
    k = labels.index("Kenya")
    labels[k] = f"Kenya {SCRIPT}"
    imm.dimensions[0] = dataclasses.replace(d, codes=tuple(labels), labels=tuple(labels))
    imm.values[k, 2] += 7
    imm.notes.append("line 3: a note with <b>markup</b> & ampersand")
    r = migaudit.audit([t01222, imm, _figure("A", 100, "2030"), _figure("B", 103, "2030")])
    r.ignored.append(("release/README.txt", "not a table format"))
    for v in r.violation_list:
        if v.rule == "regions_sum_to_total" and v.where.get("citizenship") == "Denmark":
            v.suspects = [{"table": imm.id, "where": {"citizenship": "Denmark", "region": "Hedmark and Oppland"},
                           "actual": float(imm.values[3, 2]), "suggested": float(imm.values[3, 2] - 100)}]
    return r


def test_fixture_has_every_kind_of_finding(result: AuditResult) -> None:
    rules = {v.rule for v in result.violation_list}
    assert {"excess_of_births", "regions_sum_to_total", "same_figure"} <= rules
    assert result.count("info") > 0 and not result.ok
    assert any(v.other for v in result.violation_list)


# --- JUnit ----------------------------------------------------------------------------------------
def _serious(o) -> bool:  # noqa: ANN001
    return any(v.severity in ("error", "warning") for v in o.violations)


def test_junit_counts_match_summary(result: AuditResult) -> None:
    root = ET.fromstring(junit.render(result))
    assert root.tag == "testsuites"
    summary = result.summary()
    cases = root.findall("./testsuite/testcase")
    not_applied = root.findall("./testsuite[@name='not-applied']/testcase")
    assert [c.get("name") for c in not_applied] == [n.rule for n in result.not_applied]
    assert all(c.find("skipped") is not None for c in not_applied)
    assert len(cases) - len(not_applied) == len(summary)
    assert len(cases) == int(root.get("tests"))
    failures = root.findall("./testsuite/testcase/failure")
    assert len(failures) == sum(_serious(o) for o in result.outcomes) == int(root.get("failures"))
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("skipped")) == len(suite.findall("testcase/skipped"))
    by_table = summary[summary.kind != "cross_table"].groupby("table").size()
    for table, n in by_table.items():
        assert len(root.findall(f"./testsuite[@name='{table}']/testcase")) == n


def test_junit_failure_lists_cells_and_infos_are_output(result: AuditResult) -> None:
    root = ET.fromstring(junit.render(result))
    case = root.find("./testsuite[@name='01222']/testcase[@name='excess_of_births']")
    assert case is not None and case.get("classname") == "migaudit.01222"
    failure = case.find("failure")
    assert failure.get("type") == "error" and failure.get("message") == "1 violation"
    assert "Region=Halden" in failure.text and "Tid=2015K2" in failure.text and "imbalance -5" in failure.text
    info_case = root.find("./testsuite[@name='01222']/testcase[@name='growth_q4_year']")
    assert info_case.find("failure") is None
    assert "imbalance" in info_case.find("system-out").text


def test_junit_cross_table_suite(result: AuditResult) -> None:
    root = ET.fromstring(junit.render(result))
    cross = root.find("./testsuite[@name='cross-table']")
    assert cross is not None
    case = cross.find("testcase[@name='same_figure']")
    assert case.get("classname") == "migaudit.A = B"
    assert "expected 103" in case.find("failure").text


def test_same_figure_of_two_small_tables() -> None:
    r = migaudit.audit([_figure("A", 100), _figure("B", 103)])
    (v,) = r.violation_list
    assert v.rule == "same_figure" and v.other["table"] == "B"
    root = ET.fromstring(junit.render(r))
    assert root.find("./testsuite[@name='cross-table']/testcase/failure") is not None
    assert "≠ B" in markdown.render(r)


def test_junit_skipped_rule(result: AuditResult) -> None:
    o = dataclasses.replace(result.outcomes[0], checked=0, passed=0, failed=0, skipped=4, violations=[])
    r = AuditResult(result.tables, [o])
    root = ET.fromstring(junit.render(r))
    assert len(root.findall(".//testcase/skipped")) == 1 and root.get("skipped") == "1"


def test_junit_escapes_labels(result: AuditResult) -> None:
    xml = junit.render(result)
    assert SCRIPT not in xml and "&lt;script&gt;" in xml
    assert ET.fromstring(xml) is not None


# --- Markdown -------------------------------------------------------------------------------------
def test_markdown_verdict_summary_and_violations(result: AuditResult) -> None:
    md = markdown.render(result)
    first = md.splitlines()[0]
    assert "❌" in first and "failed" in first
    assert "| tables | cells | rules | checks | errors | warnings | infos |" in md
    assert "Region=Halden · ContentsCode=Excess of births · Tid=2015K2" in md
    assert "| -5 |" in md and "| -100 |" in md
    assert "`counts_non_negative`" not in md  # passing rules are only counted
    assert "other rule checks passed" in md
    assert "release/README.txt" in md


def test_markdown_caps_rows_and_escapes_pipes(result: AuditResult) -> None:
    v = next(v for v in result.violation_list if v.rule == "same_figure")
    old = dict(v.where)
    v.where["contents"] = "Immi|gration"
    try:
        md = markdown.render(result, max_rows=2)
    finally:
        v.where.clear()
        v.where.update(old)
    assert "Immi\\|gration" in md and "Immi|gration" not in md.replace("\\|", "")
    assert "… and" in md and "more" in md
    for line in md.splitlines():
        if line.startswith("| error") or line.startswith("| info"):
            assert line.replace("\\|", "").count("|") == 8  # 7 columns


def test_markdown_clean_result_is_green(seeds: Path) -> None:
    md = markdown.render(migaudit.audit([_immigration(seeds)]))
    assert md.startswith("### ✅") and "All" in md and "Violations" not in md


def test_markdown_lists_passed_cross_table(seeds: Path) -> None:
    md = render(migaudit.audit([_figure("A", 100), _figure("B", 100)]), "markdown")
    assert "Cross-table checks passed" in md and "A = B" in md


# --- HTML -----------------------------------------------------------------------------------------
class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.cells: list[tuple[dict[str, str | None], str]] = []
        self.tags: list[str] = []
        self.scripts = 0
        self.external = []
        self._td: dict[str, str | None] | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):  # noqa: ANN001, ANN201
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag in ("link", "img") or (tag == "script" and a.get("src")):
            self.external.append(a)
        if tag == "td":
            self._td, self._text = a, ""

    def handle_endtag(self, tag):  # noqa: ANN001, ANN201
        if tag == "td" and self._td is not None:
            self.cells.append((self._td, self._text))
            self._td = None

    def handle_data(self, data):  # noqa: ANN001, ANN201
        if self._td is not None:
            self._text += data


def _parse(page: str) -> _Collector:
    p = _Collector()
    p.feed(page)
    p.close()
    return p


def test_html_is_self_contained_and_structured(result: AuditResult) -> None:
    page = html_report.render(result)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    p = _parse(page)
    assert not p.external and "http://" not in page and "https://" not in page
    for section in ('id="rules"', 'id="violations"', 'id="imbalances"', 'id="inputs"'):
        assert section in page
    assert "FAILED" in page
    assert "line 3: a note with &lt;b&gt;markup&lt;/b&gt; &amp; ampersand" in page
    assert "release/README.txt" in page


def test_html_escapes_labels(result: AuditResult) -> None:
    page = html_report.render(result)
    assert SCRIPT not in page
    assert "Kenya &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert _parse(page).scripts == 0


def _grid_cells(page: str, table: str) -> list[tuple[dict[str, str | None], str]]:
    """The cells of the grids drawn for `table`."""
    out = []
    for chunk in page.split(f'<table class="grid" data-table="{table}">')[1:]:
        out += _parse("<table>" + chunk.split("</table>")[0] + "</table>").cells
    return out


def test_html_grid_highlights_failing_sums_and_suspects(result: AuditResult) -> None:
    page = html_report.render(result)
    cells = _grid_cells(page, "11")
    fails = [(a, t) for a, t in cells if "fail" in (a.get("class") or "").split()]
    texts = {t for _, t in fails}
    assert "2 284" in texts  # Europe total, except Norway × Hedmark and Oppland: parts sum to 2 384
    assert "1 590" in texts  # Denmark × Total: regions sum to 1 690
    suspects = [(a, t) for a, t in cells if "suspect" in (a.get("class") or "").split()
                and "suspect-list" not in (a.get("class") or "")]
    # Denmark × Hedmark and Oppland is singled out; the Kenya row (its label no longer resolves
    # to a continent, so only the row sum fails) is a tie of its cells, all marked
    assert "178" in [t for _, t in suspects]
    attrs = next(a for a, t in suspects if t == "178")
    assert attrs["data-suggested"] == "78" and "suggested 78" in attrs["title"]
    fail_attrs = next(a for a, t in fails if t == "1 590")
    assert "regions_sum_to_total" in fail_attrs["title"]


def test_html_every_finding_links_to_its_cell_and_back(result: AuditResult) -> None:
    page = html_report.render(result)
    rows = re.findall(r'<tr id="(v\d+)">(.*?)</tr>', page)
    assert len(rows) == len(result.violation_list)
    ids = set(re.findall(r'<td id="(c[\d-]+)"', page))
    linked = 0
    for _vid, row in rows:
        m = re.search(r'<a href="#(c[\d-]+)"', row)
        if m is None:
            continue
        linked += 1
        assert m.group(1) in ids
        cell = re.search(rf'<td id="{m.group(1)}"[^>]*>(.*?)</td>', page).group(0)
        assert "fail" in cell and 'href="#v' in cell
        actual = re.findall(r'<td class="num">([^<]*)</td>', row)[1]
        assert f">{actual}</a>" in cell  # the linked cell shows the finding's actual value
    # only findings that name a derived figure (A = B, sums over regions) have no cell of their own
    assert linked >= len([v for v in result.violation_list if not v.other])


def test_html_three_way_table_drawn_as_slice_of_failing_quarter(result: AuditResult) -> None:
    t01222 = result.tables[0]
    assert set(html_report.grid_axes(t01222)) == {0, 1}  # region × contents; time is the slice
    page = html_report.render(result)
    v = next(v for v in result.violation_list if v.rule == "excess_of_births")
    assert v.where["Tid"] == "2015K2"
    (row,) = [r for r in re.findall(r'<tr id="v\d+">.*?</tr>', page) if "<code>excess_of_births</code>" in r]
    href = re.search(r'href="#(c[\d-]+)"', row).group(1)
    assert href == html_report.cell_id(0, (0, 2, 3))  # Halden, Excess of births, 2015K2
    figure = page[page.rindex("<figure", 0, page.index(f'id="{href}"')):]
    caption = figure[: figure.index("</figcaption>")]
    assert "2015K2" in caption and ("Tid" in caption or "time" in caption)
    cells = _parse(figure[: figure.index("</figure>")]).cells
    assert [t for a, t in cells if a.get("id") == href] == ["3"]


def test_html_cross_table_finding_links_both_cells() -> None:
    r = migaudit.audit([_figure("A", 100), _figure("B", 103)])
    page = html_report.render(r)
    (row,) = re.findall(r'<tr id="v1">.*?</tr>', page)
    targets = re.findall(r'href="#(c[\d-]+)"', row)
    assert targets == [html_report.cell_id(0, (0, 0)), html_report.cell_id(1, (0, 0))]
    for target, value in zip(targets, ("100", "103"), strict=True):
        cell = re.search(rf'<td id="{target}"[^>]*>(.*?)</td>', page)
        assert cell and "fail-error" in cell.group(0) and f">{value}</a>" in cell.group(0)


def _inside_details(page: str, pos: int) -> bool:
    """True when position `pos` of `page` lies inside an open `<details` … `</details>` pair."""
    return page.count("<details", 0, pos) > page.count("</details>", 0, pos)


def test_html_infos_and_notes_folded_errors_not(result: AuditResult) -> None:
    page = html_report.render(result)
    rows = [(m.start(), m.group(1)) for m in re.finditer(r'<tr id="v\d+"><td><span class="sev (\w+)">', page)]
    assert {sev for _, sev in rows} == {"error", "info"}
    for pos, sev in rows:
        assert _inside_details(page, pos) == (sev == "info"), sev
    assert _inside_details(page, page.index("line 3: a note with"))
    assert not _inside_details(page, page.index('<table class="grid" data-table="11"'))


def test_markdown_infos_folded_after_errors(result: AuditResult) -> None:
    md = markdown.render(result)
    infos = [m.start() for m in re.finditer(r"^\| info \|", md, re.M)]
    errors = [m.start() for m in re.finditer(r"^\| error \|", md, re.M)]
    assert infos and errors and max(errors) < min(infos)
    assert all(_inside_details(md, i) for i in infos) and not any(_inside_details(md, e) for e in errors)


def test_html_grid_axes() -> None:
    dims = [Dimension("region", ("a", "b", "c"), role="region"), Dimension("time", ("2020", "2021"), role="time"),
            Dimension("contents", ("x", "y"), role="measure"), Dimension("sex", ("0",), role="sex")]
    t = Table(dims, np.zeros((3, 2, 2, 1)), np.zeros((3, 2, 2, 1)), id="t")
    assert html_report.grid_axes(t) == (0, 2)  # time is fixed, the two others are drawn
    one = Table(dims[:1], np.zeros(3), np.zeros(3), id="one")
    assert html_report.grid_axes(one) == (0, None)


def test_html_large_grid_shows_flagged_rows(result: AuditResult) -> None:
    page = html_report.render(result, grid_rows=5)
    assert "rows shown" in page and 'class="gap"' in page
    assert "2 284" in page and "1 590" in page


def test_html_passing_rules_not_styled_as_errors(result: AuditResult) -> None:
    page = html_report.render(result)
    rules = page[page.index('<section id="rules">'): page.index("</section>", page.index('<section id="rules">'))]
    passed = re.findall(r'<tr class="status-passed">.*?</tr>', rules)
    assert passed and all('class="sev' not in row for row in passed)
    assert rules.index("status-failed") < rules.index("status-passed")
    assert "<details>" in rules[: rules.index("status-passed")]  # passing rules are folded


def test_html_plot_one_row_per_rule_signed(result: AuditResult) -> None:
    page = html_report.render(result)
    svg = page[page.index("<svg"): page.index("</svg>")]
    circles = re.findall(r'<circle class="(\w+)[^"]*" cx="([\d.]+)"', svg)
    assert len(circles) == len(result.violation_list)
    zero = float(re.search(r'<line class="zero" x1="([\d.]+)"', svg).group(1))
    dots = sorted(float(x) for _, x in circles)
    by_sign = sorted(result.violation_list, key=lambda v: v.imbalance)
    for v, x in zip(by_sign, dots, strict=True):
        assert (x < zero) == (v.imbalance < 0) and (x > zero) == (v.imbalance > 0)
    rules = {v.rule for v in result.violation_list}
    assert all(f">{r}</tspan>" in svg for r in rules)
    assert svg.count('<a href="#v') == sum(1 for v in result.violation_list if v.severity != "info")


# --- text -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [80, 120])
def test_text_fits_and_names_every_violation(result: AuditResult, width: int) -> None:
    out = text.render(result, width=width, max_rows=100, verbose=True)
    for line in out.splitlines():
        assert len(line) <= width, line
    flat = " ".join(line.strip() for line in out.splitlines())
    for v in result.violation_list:
        assert v.rule in out
        for label in v.where.values():
            assert label in flat, label
    assert "imbalance -5" in out and "suspect" in out and "FAILED" in out
    assert "ignored release/README.txt" in out and "note 11:" in out


def test_text_default_leads_with_verdict_and_folds_infos_and_notes(result: AuditResult) -> None:
    out = text.render(result, width=100)
    lines = out.splitlines()
    n_err = result.count("error")
    assert lines[0].endswith(f"FAILED: {n_err} errors, 0 warnings, {result.count('info')} infos")
    assert lines[-1] == lines[0].split("  ", 1)[1]  # the verdict again at the bottom
    assert "Worst findings" in out and out.index("Worst findings") < out.index("Violations in")
    assert "note 11:" not in out and "ignored release/README.txt" not in out
    assert "reader notes and ignored files not shown (-v shows them)" in out
    infos = [v for v in result.violation_list if v.severity == "info"]
    assert f"growth_q4_year  {len(infos)} findings in 01222" in out  # counted, not listed
    assert not any(ln.lstrip().startswith("info ") for ln in lines)
    first_error = out.index("error   ")
    assert first_error < out.index("Rules with findings")


def test_text_quiet_is_the_verdict_line(result: AuditResult) -> None:
    out = text.render(result, quiet=True)
    assert out.splitlines() == [f"FAILED: {result.count('error')} errors, 0 warnings, {result.count('info')} infos"]


def test_counts_are_english_and_numbers_formatted(seeds: Path) -> None:
    imm = _immigration(seeds)
    imm.values[3, 2] += 100  # Denmark × Hedmark and Oppland: one cell, two failing sums
    r = migaudit.audit([imm])
    v = next(v for v in r.violation_list if v.where.get("region") == "Total")
    assert v.actual >= 1000 and f"{v.actual:g}" in v.message  # the engine writes 1590
    assert text.fmt_message(v).count(text.fmt_num(v.actual)) == 1 and f"{v.actual:g}" not in text.fmt_message(v)
    one = dataclasses.replace(r, outcomes=[dataclasses.replace(o, violations=o.violations[:1])
                                           for o in r.outcomes if o.violations][:1])
    for fmt in ("text", "markdown", "html"):
        page = re.sub(r"<[^>]+>", "", render(one, fmt))
        assert "1 error," in page and "1 errors" not in page, fmt


def _accepted_result(seeds: Path) -> tuple[AuditResult, str]:
    from migaudit.runner import apply_accepted

    imm = _immigration(seeds)
    imm.values[3, 2] += 100
    r = migaudit.audit([imm])
    reason = "SSB revised Denmark × Hedmark and Oppland <later> & kept the old total"
    apply_accepted(r, [{"rule": "regions_sum_to_total", "table": "11", "where": {"citizenship": "Denmark"},
                        "reason": reason}])
    assert any(v.accepted for v in r.violation_list)
    return r, reason


def test_accept_reason_in_every_format(seeds: Path) -> None:
    r, reason = _accepted_result(seeds)
    assert reason in text.render(r, width=200) and reason in text.render(r, width=200, verbose=True)
    assert reason.replace("<", "&lt;").replace(">", "&gt;") in markdown.render(r)
    assert reason.replace("<", "&lt;").replace(">", "&gt;").replace("&", "&amp;", 1) in html_report.render(r) \
        or "SSB revised Denmark × Hedmark and Oppland &lt;later&gt; &amp; kept the old total" in html_report.render(r)
    root = ET.fromstring(junit.render(r))
    assert any(reason in (e.text or "") for e in root.iter("system-out"))
    d = json.loads(render(r, "json"))
    acc = [v for v in d["violations"] if "accepted" in v]
    assert acc and all(v["accepted"] == reason and v["severity"] == "info" and v["message"].startswith("accepted:")
                       for v in acc)
    assert all("accepted" not in v for v in d["violations"] if v not in acc)


def test_json_report_is_the_contract_with_summary_first(result: AuditResult) -> None:
    out = render(result, "json")
    assert json.loads(out) == json.loads(result.to_json())
    assert list(json.loads(out))[:2] == ["migaudit", "summary"]


def test_junit_comment_summary_and_failures_first(result: AuditResult) -> None:
    xml = junit.render(result)
    comment = xml[xml.index("<!--"): xml.index("-->")]
    worst = max((v for v in result.violation_list if v.severity == "error"), key=lambda v: abs(v.imbalance))
    assert "FAILED" in comment and f"{worst.rule} in {worst.table}" in comment
    root = ET.fromstring(xml)
    failing = [int(s.get("failures")) > 0 for s in root.findall("testsuite")]
    assert failing == sorted(failing, reverse=True)  # every failing suite before every passing one


def test_text_one_line_per_violation_when_wide(result: AuditResult) -> None:
    out = text.render(result, width=160)
    line = next(ln for ln in out.splitlines() if "excess_of_births  Region=Halden" in ln)
    assert "expected 8" in line and "actual 3" in line and "imbalance -5" in line


def test_text_shows_passed_cross_table() -> None:
    out = text.render(migaudit.audit([_figure("A", 100), _figure("B", 100)]))
    assert "Cross-table checks passed" in out and "same_figure  A = B" in out and "OK" in out


# --- CLI ------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Run:
    returncode: int
    stdout: str
    stderr: str


def _cli(*args: str | Path) -> _Run:
    """`migaudit audit ARGS` in-process (fast); exit codes come from the command's own sys.exit."""
    from click.testing import CliRunner

    from migaudit.cli import cli

    r = CliRunner().invoke(cli, ["audit", *map(str, args)], catch_exceptions=False)
    return _Run(r.exit_code, r.stdout, r.stderr)


def _cli_process(*args: str | Path) -> subprocess.CompletedProcess:
    """`migaudit audit ARGS` as a real process: what a user sees on stderr."""
    return subprocess.run([sys.executable, "-m", "migaudit.cli", "audit", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def corrupted(seeds: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    t = _immigration(seeds)
    t.values[3, 2] += 100
    path = tmp_path_factory.mktemp("cli") / "corrupted.json"
    tidy.write(t, path, "json")
    return path


def test_cli_clean_table_exits_0(seeds: Path) -> None:
    p = _cli(seeds / "001_9afe6c9cbe8ed332.txt")
    assert p.returncode == 0, p.stderr
    assert "OK" in p.stdout


def test_cli_injected_error_exits_1_and_never_exits_0(corrupted: Path) -> None:
    p = _cli(corrupted)
    assert p.returncode == 1, p.stderr
    assert "regions_sum_to_total" in p.stdout and "FAILED" in p.stdout
    assert _cli(corrupted, "--fail-on", "never").returncode == 0


def test_cli_fail_on_info(ssb: Path) -> None:
    f = ssb / "01222_five_regions_DERIVED.jsonstat2.json"  # only Q4 adjustments: infos
    assert _cli(f).returncode == 0
    assert _cli(f, "--fail-on", "info").returncode == 1


def test_cli_junit_to_file(corrupted: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    p = _cli_process(corrupted, "--format", "junit", "-o", out)
    assert p.returncode == 1 and "wrote junit report" in p.stderr
    root = ET.parse(out).getroot()
    assert int(root.get("failures")) >= 1 and root.findall(".//failure")


@pytest.mark.parametrize("fmt", ["markdown", "html", "json"])
def test_cli_other_formats(corrupted: Path, fmt: str) -> None:
    p = _cli(corrupted, "--format", fmt)
    assert p.returncode == 1 and "regions_sum_to_total" in p.stdout


def test_cli_quiet_and_verbose(corrupted: Path) -> None:
    quiet = _cli(corrupted, "--quiet")
    assert quiet.returncode == 1 and quiet.stdout.splitlines() == [quiet.stdout.strip()]
    assert quiet.stdout.startswith("FAILED: 2 errors")
    verbose = _cli(corrupted, "-v")
    assert verbose.returncode == 1
    assert "counts_non_negative" in verbose.stdout and "counts_non_negative" not in _cli(corrupted).stdout


def test_cli_garbage_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.bin"
    bad.write_bytes(b"\x00\x01 lorem ipsum \xff\xfe not a table")
    p = _cli_process(bad)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("migaudit: error:")
    assert "Traceback" not in p.stderr
