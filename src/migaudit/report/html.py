"""One self-contained HTML page: verdict, the failing cells in their tables, a plot, the rules.

Meant to be attached to a CI run or mailed to the table's owner, so it carries its own CSS,
no script and no network. The page is built for the reader who opens it to fix a table:
the verdict and the worst findings come first, then each table's errors with, right below
them, the grid that holds the failing cell (for a table of 3+ dimensions, the 2-D slice at
the failing cell's other coordinates, e.g. region × contents for the failing quarter).
Every finding links to its cell and every marked cell links back to its finding. Info
findings, passing rules, reader notes and ignored files are folded in `<details>`. Every
text from a table or file is escaped.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np

from migaudit import __version__
from migaudit.engine.dense import Violation
from migaudit.model import symbols as sym
from migaudit.model.cube import is_total_label
from migaudit.model.table import Dimension, Table
from migaudit.report.text import (
    agree_text,
    counts_text,
    finding_text,
    fmt_imbalance,
    fmt_num,
    fmt_where,
    grouped_violations,
    is_serious,
    other_text,
    passed_cross_table,
    plural,
    rule_status,
    size_text,
    worst_findings,
    worst_severity,
)
from migaudit.result import SEVERITY_RANK, AuditResult

_MARKER = re.compile(r"[\s]*[\u00b9\u00b2\u00b3\u2070-\u2079]+$")

CSS = """
:root { --err:#c62828; --warn:#b26a00; --info:#1565c0; --ok:#2e7d32; --sus:#7b1fa2; --line:#d0d4da;
        --muted:#5b6570; }
* { box-sizing: border-box; }
html { scroll-padding-top: 8px; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:#1d2329;
       margin: 0 auto; padding: 16px 28px 64px; max-width: 1280px; background:#fafbfc; }
h1 { font-size: 20px; margin: 0; display: inline; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
h3 .title { font-weight: 400; color: var(--muted); }
a { color: #0b57a4; }
.verdict { display:inline-block; padding: 2px 10px; border-radius: 4px; color:#fff; font-weight:700;
           font-size: 16px; vertical-align: 2px; margin-right: 8px; }
.verdict.ok { background: var(--ok); } .verdict.failed { background: var(--err); }
.lead { margin: 6px 0 4px; font-size: 15px; } .lead .n-error { color: var(--err); font-weight: 700; }
.lead .n-warning { color: var(--warn); font-weight: 700; }
.sub { color: var(--muted); margin: 2px 0 8px; }
.worst { background:#fff; border:1px solid var(--line); border-left: 4px solid var(--err); border-radius: 4px;
         padding: 6px 12px; margin: 10px 0 4px; }
.worst ol, .worst ul { margin: 2px 0; padding-left: 20px; } .worst li { margin: 2px 0; }
.worst.accepted { border-left-color: var(--ok); }
nav.toc { font-size: 13px; color: var(--muted); margin: 8px 0 0; } nav.toc a { margin-right: 12px; }
.pill { display:inline-block; font-size: 12px; font-weight: 600; padding: 0 7px; border-radius: 9px;
        margin-left: 6px; vertical-align: 1px; }
.pill.error { background:#fde2e2; color: var(--err); } .pill.warning { background:#fff0d6; color: var(--warn); }
.pill.info { background:#e1ecfb; color: var(--info); } .pill.accepted { background:#e6f4ea; color: var(--ok); }
table { border-collapse: collapse; background:#fff; margin: 6px 0 10px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background:#eef1f4; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.findings tr:target td { background: #fff8c5; }
.sev { font-weight: 700; } .sev.error { color: var(--err); } .sev.warning { color: var(--warn); }
.sev.info { color: var(--info); font-weight: 600; }
.status { font-size: 12.5px; font-weight: 600; }
.status.failed { color: var(--err); } .status.info { color: var(--info); } .status.skipped { color: #6b7580; }
.status.passed { color: var(--ok); font-weight: 400; }
tr.status-passed td { color: var(--muted); }
.muted { color: var(--muted); }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.where { max-width: 560px; }
.where a { text-decoration: none; border-bottom: 1px dotted #0b57a4; }
.msg { color: var(--muted); font-size: 12.5px; }
.reason { color: var(--ok); font-size: 12.5px; }
.suspect-list { color: var(--sus); font-size: 12.5px; }
.more { color: var(--muted); font-style: italic; }
figure.slice { margin: 4px 0 14px; }
figure.slice figcaption { color: var(--muted); font-size: 12.5px; margin: 0 0 2px; }
.grid-wrap { overflow-x: auto; max-width: 100%; }
table.grid { font-size: 12.5px; margin: 0; }
table.grid td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; padding: 1px 6px; }
table.grid th { font-weight: 500; }
table.grid tbody th { white-space: nowrap; }
table.grid thead th { white-space: normal; overflow-wrap: anywhere; min-width: 4.5em; max-width: 10em;
                      vertical-align: bottom;
                      font-size: 12px; line-height: 1.25; }
table.grid th.hl { background: #fde2e2; }
table.grid tr.total td, table.grid tr.total th, table.grid th.total { font-weight: 700; }
table.grid td.sym { color:#8a939c; text-align: center; }
table.grid td.fail { background: #ffcdd2; outline: 2px solid var(--err); outline-offset: -2px; font-weight: 700; }
table.grid td.fail-warning { background: #ffe0b2; outline-color: var(--warn); }
table.grid td.fail-info { background: #d6e6fb; outline-color: var(--info); font-weight: 400; }
table.grid td.fail-accepted { background: #dcefe0; outline-color: var(--ok); }
table.grid td.suspect { background: #e9d5f5; outline: 2px dashed var(--sus); outline-offset: -2px; }
table.grid td.fail.suspect { outline-style: double; }
table.grid td:target { outline-width: 3px; box-shadow: 0 0 0 3px #ffd54f; }
table.grid td a { color: inherit; text-decoration: none; }
table.grid tr.gap td, table.grid tr.gap th { color:#8a939c; text-align: center; font-style: italic;
                                             background: #f5f6f8; font-size: 11.5px; }
.legend { font-size: 12px; color: var(--muted); margin: 2px 0 0; }
.legend span { display:inline-block; padding: 0 6px; margin-right: 6px; border-radius: 3px; color:#1d2329; }
.legend .l-fail { background:#ffcdd2; outline: 2px solid var(--err); outline-offset:-2px; }
.legend .l-sus { background:#e9d5f5; outline: 2px dashed var(--sus); outline-offset:-2px; }
.legend .l-info { background:#d6e6fb; outline: 2px solid var(--info); outline-offset:-2px; }
.legend .l-acc { background:#dcefe0; outline: 2px solid var(--ok); outline-offset:-2px; }
ul.compact { margin: 4px 0; padding-left: 20px; } ul.compact li { margin: 1px 0; }
details { margin: 6px 0; } details > summary { cursor: pointer; color:#37414b; }
details.group > summary { font-weight: 600; }
details.group > summary .title, details.group > summary .muted { font-weight: 400; color: var(--muted); }
details[open] > summary { margin-bottom: 4px; }
svg.plot { background: #fff; border: 1px solid var(--line); max-width: 100%; height: auto; }
svg.plot text { font: 12px system-ui, sans-serif; fill: #37414b; }
svg.plot text.tick { fill: var(--muted); font-size: 11px; }
svg.plot line.axis { stroke: #9aa3ad; } svg.plot line.grid { stroke: #eceff2; }
svg.plot line.zero { stroke: #37414b; }
svg.plot circle.error { fill: var(--err); } svg.plot circle.warning { fill: var(--warn); }
svg.plot circle.info { fill: var(--info); fill-opacity: .45; }
svg.plot circle.accepted { fill: var(--ok); fill-opacity: .9; }
table.rules td.desc { min-width: 300px; max-width: 420px; }
table.rules td.tbl { min-width: 180px; max-width: 300px; overflow-wrap: anywhere; }
footer { margin-top: 40px; color:#8a939c; font-size: 12px; }
"""


def _e(x: object) -> str:
    return escape("" if x is None else str(x), quote=True)


def _pill(n: int, word: str, cls: str) -> str:
    return f'<span class="pill {cls}">{_e(plural(n, word))}</span>' if n else ""


def render(result: AuditResult, max_rows: int = 200, grid_rows: int = 40, grid_cols: int = 24,
           title: str = "migaudit report", **_: object) -> str:
    """The whole page as a string.

    `max_rows` caps the findings listed per table and severity class, `grid_rows` and
    `grid_cols` the rows and columns drawn of a grid before it is cut to the flagged ones.
    """
    page = _Page(result, max_rows, grid_rows, grid_cols)
    verdict = "OK" if result.ok else "FAILED"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}: {verdict}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        *page.header(title, verdict),
        *page.violations_section(),
        *page.plot_section(),
        *page.rules_section(),
        *page.not_applied_section(),
        *page.cross_passed_section(),
        *page.inputs_section(),
        f"<footer>Generated by migaudit {_e(__version__)}. No scripts, no external resources.</footer>",
        "</body>", "</html>", "",
    ]
    return "\n".join(parts)


# --- locating cells ------------------------------------------------------------------------------
def _lookup(dim: Dimension) -> dict[str, int]:
    """Category position by code, by label and by label without footnote markers."""
    out: dict[str, int] = {}
    for i, (code, label) in enumerate(zip(dim.codes, dim.labels, strict=True)):
        for key in (_MARKER.sub("", label).strip(), label, code):
            out.setdefault(key, i)
    return out


def cell_index(table: Table, where: dict[str, Any] | None, codes: dict[str, Any] | None = None,
               lookups: dict[int, dict[str, int]] | None = None) -> tuple[int, ...] | None:
    """Position in `table` of the cell named by `where` (labels) or `codes`; None when it names no cell.

    Dimensions of one category need no key (a title's singleton contents/time); a name such
    as "sum of all regions" (a derived cross-table figure) is not a cell.
    """
    if not where and not codes:
        return None
    pos = []
    for ax, dim in enumerate(table.dimensions):
        look = lookups[ax] if lookups is not None else _lookup(dim)
        found = None
        for source in (codes or {}, where or {}):
            for name in (dim.name, dim.role):
                if name and name in source and str(source[name]) in look:
                    found = look[str(source[name])]
                    break
            if found is not None:
                break
        if found is None:
            if len(dim) != 1:
                return None
            found = 0
        pos.append(found)
    return tuple(pos)


def grid_axes(table: Table) -> tuple[int | None, int | None]:
    """(row axis, column axis) of the grid a table is drawn as; None where there is no such axis.

    The two largest dimensions of more than one category, time last (a failing quarter is a
    slice, region × contents within it is what a reader compares); the longer one down the
    rows so wide classifications stay readable.
    """
    big = [i for i, d in enumerate(table.dimensions) if len(d) > 1]
    big.sort(key=lambda i: (table.dimensions[i].role == "time", -len(table.dimensions[i]), i))
    keep = sorted(big[:2])
    if len(keep) == 2:
        a, b = keep
        return (a, b) if len(table.dimensions[a]) >= len(table.dimensions[b]) else (b, a)
    return (keep[0], None) if keep else (None, None)


@dataclass
class _Slice:
    """The 2-D grid of one table at fixed positions of its other axes, with its marks."""

    ti: int
    table: Table
    axes: tuple[int | None, int | None]
    fixed: tuple[int, ...]  # a full index; the row/column axes' entries are ignored
    fails: dict[tuple[int, int], list[tuple[str, Violation]]] = field(default_factory=lambda: defaultdict(list))
    suspects: dict[tuple[int, int], list[tuple[str, dict[str, Any]]]] = field(default_factory=lambda: defaultdict(list))
    context: set[int] = field(default_factory=set)
    home: tuple[int, bool] | None = None  # (group number, among the errors)

    def rc(self, idx: tuple[int, ...]) -> tuple[int, int]:
        r_ax, c_ax = self.axes
        return (idx[r_ax] if r_ax is not None else 0, idx[c_ax] if c_ax is not None else 0)

    def full(self, r: int, c: int) -> tuple[int, ...]:
        idx = list(self.fixed)
        r_ax, c_ax = self.axes
        if r_ax is not None:
            idx[r_ax] = r
        if c_ax is not None:
            idx[c_ax] = c
        return tuple(idx)


def _slice_key(axes: tuple[int | None, int | None], idx: tuple[int, ...]) -> tuple[int, ...]:
    """The index with the drawn axes blanked: equal keys, same slice."""
    return tuple(-1 if ax in axes else i for ax, i in enumerate(idx))


def cell_id(ti: int, idx: tuple[int, ...]) -> str:
    """The anchor of a drawn cell: table number and full index, unique on the page."""
    return "c" + "-".join(str(i) for i in (ti, *idx))


# --- the page ------------------------------------------------------------------------------------
class _Page:
    """Numbers every finding (`v1`, `v2`, …), places every cell it names in one slice, renders."""

    def __init__(self, result: AuditResult, max_rows: int, grid_rows: int, grid_cols: int) -> None:
        self.result = result
        self.max_rows, self.grid_rows, self.grid_cols = max_rows, grid_rows, grid_cols
        self.tables = {t.id: (i, t) for i, t in enumerate(result.tables)}
        self._lookups: dict[str, dict[int, dict[str, int]]] = {}
        self.groups = list(grouped_violations(result))
        self.vid: dict[int, str] = {}
        self.loc: dict[int, tuple[str, tuple[int, ...]]] = {}
        self.oloc: dict[int, tuple[str, tuple[int, ...]]] = {}  # the other side of a cross-table finding
        self.slices: dict[tuple[str, tuple[int, ...]], _Slice] = {}
        n = 0
        for _, vs in self.groups:
            for v in vs:
                n += 1
                self.vid[id(v)] = f"v{n}"
        self._place()

    # where each finding's cell is drawn
    def _locate(self, table_id: str | None, where: dict[str, Any] | None,
                codes: dict[str, Any] | None = None) -> tuple[str, tuple[int, ...]] | None:
        if table_id not in self.tables:
            return None
        _, t = self.tables[table_id]
        look = self._lookups.setdefault(table_id, {ax: _lookup(d) for ax, d in enumerate(t.dimensions)})
        idx = cell_index(t, where, codes, look)
        return None if idx is None else (table_id, idx)

    def _slice_of(self, table_id: str, idx: tuple[int, ...], create: bool) -> _Slice | None:
        ti, t = self.tables[table_id]
        axes = grid_axes(t)
        key = (table_id, _slice_key(axes, idx))
        if key not in self.slices and create:
            self.slices[key] = _Slice(ti, t, axes, tuple(max(i, 0) for i in key[1]))
        return self.slices.get(key)

    def listed(self, vs: list[Violation]) -> tuple[list[Violation], list[Violation]]:
        """(errors and warnings, infos) of a group as listed: at most `max_rows` of each."""
        serious = [v for v in vs if is_serious(v)]
        infos = [v for v in vs if not is_serious(v)]
        return serious[: self.max_rows], infos[: self.max_rows]

    def _place(self) -> None:
        # slices are created by listed findings, errors first, so an error's grid sits with it
        for pass_serious in (True, False):
            for g, (_, vs) in enumerate(self.groups):
                serious, infos = self.listed(vs)
                for v in serious if pass_serious else infos:
                    at = self._locate(v.table, v.where, v.codes)
                    if at is None:
                        continue
                    self.loc[id(v)] = at
                    sl = self._slice_of(*at, create=True)
                    if sl is not None and sl.home is None:
                        sl.home = (g, pass_serious)
                    # the other table of a failing cross-table check is drawn beside it
                    o_at = self._locate(v.other.get("table"), v.other.get("where")) if v.other else None
                    if pass_serious and o_at is not None:
                        o_sl = self._slice_of(*o_at, create=True)
                        if o_sl is not None and o_sl.home is None:
                            o_sl.home = (g, True)
        # every finding and suspect marks the slices that are drawn
        for _, vs in self.groups:
            for v in vs:
                vid = self.vid[id(v)]
                at = self.loc.get(id(v)) or self._locate(v.table, v.where, v.codes)
                if at is not None and (sl := self._slice_of(*at, create=False)) is not None:
                    sl.fails[sl.rc(at[1])].append((vid, v))
                    for tid, idx, _ in v.cells:
                        if tid == at[0] and len(idx) >= len(sl.table.dimensions):
                            full = tuple(idx[: len(sl.table.dimensions)])
                            if all(i >= 0 for i in full) and _slice_key(sl.axes, full) == _slice_key(sl.axes, at[1]):
                                sl.context.add(sl.rc(full)[0])
                if v.other:
                    o_at = self._locate(v.other.get("table"), v.other.get("where"))
                    if o_at is not None and (sl := self._slice_of(*o_at, create=False)) is not None:
                        sl.fails[sl.rc(o_at[1])].append((vid, v))
                        self.oloc[id(v)] = o_at
                for s in v.suspects:
                    s_at = self._locate(s.get("table", v.table), s.get("where"), s.get("codes"))
                    if s_at is not None and (sl := self._slice_of(*s_at, create=False)) is not None:
                        sl.suspects[sl.rc(s_at[1])].append((vid, {**s, "rule": v.rule}))

    def href(self, v: Violation) -> str | None:
        at = self.loc.get(id(v))
        if at is None:
            return None
        return "#" + cell_id(self.tables[at[0]][0], at[1])

    # --- header -------------------------------------------------------------------------------
    def header(self, title: str, verdict: str) -> list[str]:
        r = self.result
        counts = counts_text(r)
        for sev in ("error", "warning"):
            n = r.count(sev)
            if n:
                counts = counts.replace(plural(n, sev), f'<span class="n-{sev}">{_e(plural(n, sev))}</span>', 1)
        out = ["<header>",
               f'<div><span class="verdict {verdict.lower()}">{verdict}</span><h1>{_e(title)}</h1></div>',
               f'<p class="lead">{counts}</p>', f'<p class="sub">{_e(size_text(r))}</p>']
        worst = worst_findings(r)
        if worst:
            out += ['<div class="worst"><b>Worst findings</b>', "<ol>"]
            for v in worst:
                out.append(f'<li><span class="sev {v.severity}">{v.severity}</span> <code>{_e(v.rule)}</code> in '
                           f'<b>{_e(v.table)}</b>: <a href="#{self.vid[id(v)]}">{_e(fmt_where(v.where))}</a> '
                           f"imbalance <b>{_e(fmt_imbalance(v.imbalance))}</b></li>")
            out += ["</ol>", "</div>"]
        accepted = [v for v in r.violation_list if v.accepted]
        if accepted:
            out += ['<div class="worst accepted"><b>Accepted findings</b> (known and explained, reported as info)',
                    "<ul>"]
            for v in accepted[:5]:
                out.append(f'<li><code>{_e(v.rule)}</code> in <b>{_e(v.table)}</b>: <a href="#{self.vid[id(v)]}">'
                           f"{_e(fmt_where(v.where))}</a> imbalance <b>{_e(fmt_imbalance(v.imbalance))}</b>"
                           f'<div class="reason">{_e(v.accepted)}</div></li>')
            if len(accepted) > 5:
                out.append(f'<li class="more">… and {fmt_num(len(accepted) - 5)} more</li>')
            out += ["</ul>", "</div>"]
        out += ['<nav class="toc"><a href="#violations">Violations</a><a href="#imbalances">Imbalances</a>'
                '<a href="#rules">Rules</a><a href="#cross-table">Cross-table checks</a>'
                '<a href="#inputs">Tables and notes</a></nav>', "</header>"]
        return out

    # --- violations ---------------------------------------------------------------------------
    def violations_section(self) -> list[str]:
        out = ['<section id="violations">', "<h2>Violations</h2>"]
        if not self.groups:
            return [*out, "<p>None: every rule that applied holds.</p>", "</section>"]
        info_only_started = False
        if not any(is_serious(v) for _, vs in self.groups for v in vs):
            out.append("<p>No errors or warnings.</p>")
        for g, (group, vs) in enumerate(self.groups):
            serious, infos = self.listed(vs)
            n = {s: sum(1 for v in vs if v.severity == s) for s in ("error", "warning", "info")}
            n_acc = sum(1 for v in vs if v.accepted)
            pills = (_pill(n["error"], "error", "error") + _pill(n["warning"], "warning", "warning")
                     + _pill(n["info"], "info", "info") + _pill(n_acc, "accepted", "accepted"))
            head = f'{_e(group)}{self._title(group)}'
            if serious:
                out += [f'<article class="group" id="g{g + 1}">', f"<h3>{head}{pills}</h3>"]
                out += self._findings_table(serious, n["error"] + n["warning"])
                out += self._slices(g, True)
                if infos:
                    out += [f"<details><summary>{_e(plural(n['info'], 'info finding'))} in this table"
                            f"{self._info_rules(vs)}</summary>", *self._findings_table(infos, n["info"]),
                            *self._slices(g, False), "</details>"]
                out.append("</article>")
            else:
                if not info_only_started:
                    out.append('<p class="sub">Tables with info findings only (SSB conventions and accepted '
                               "findings, not errors):</p>")
                    info_only_started = True
                out += [f'<details class="group" id="g{g + 1}"><summary>{head}{pills}'
                        f"{self._info_rules(vs)}</summary>", *self._findings_table(infos, n["info"]),
                        *self._slices(g, False), "</details>"]
        return [*out, "</section>"]

    def _title(self, group: str) -> str:
        t = self.tables.get(group)
        return f' <span class="title">{_e(t[1].title)}</span>' if t and t[1].title else ""

    def _info_rules(self, vs: list[Violation]) -> str:
        rules = sorted({v.rule for v in vs if v.severity == "info"})
        return f' <span class="muted">({_e(", ".join(rules))})</span>' if rules else ""

    def _findings_table(self, vs: list[Violation], total: int) -> list[str]:
        out = ['<table class="findings">',
               '<thead><tr><th>severity</th><th>rule</th><th>cell</th><th class="num">expected</th>'
               '<th class="num">actual</th><th class="num">imbalance</th><th>suspects</th></tr></thead>', "<tbody>"]
        prev = None
        for v in vs:
            # a message repeated row after row (471 implied adjustments) is said once
            shape = re.sub(r"[+-]?\d[\d ]*", "#", finding_text(v))
            out.append(self._violation_row(v, message=shape != prev or bool(v.accepted)))
            prev = shape
        if total > len(vs):
            out.append(f'<tr><td colspan="7" class="more">… and {_e(fmt_num(total - len(vs)))} more</td></tr>')
        return [*out, "</tbody>", "</table>"]

    def _violation_row(self, v: Violation, message: bool = True) -> str:
        where = _e(fmt_where(v.where))
        href = self.href(v)
        if href:
            where = f'<a href="{href}" title="show the cell in its grid">{where}</a>'
        if v.other:
            other = _e(other_text(v))
            if id(v) in self.oloc:
                tid, idx = self.oloc[id(v)]
                other = f'<a href="#{cell_id(self.tables[tid][0], idx)}">{other}</a>'
            where += f" <b>≠</b> {other}"
        if v.accepted:
            where += f'<div class="reason">accepted: {_e(v.accepted)}</div>'
        elif v.message and message:
            where += f'<div class="msg">{_e(finding_text(v))}</div>'
        suspects = "<br>".join(
            f"{_e(fmt_where(s.get('where')))}: {_e(fmt_num(s.get('actual')))}"
            + (f" → <b>{_e(fmt_num(s.get('suggested')))}</b>" if s.get("suggested") is not None else "")
            + (f" <small>({_e(s.get('table'))})</small>" if s.get("table") not in (None, v.table) else "")
            for s in v.suspects)
        tol = f' <small class="muted">±{_e(fmt_num(v.tolerance))}</small>' if v.tolerance else ""
        return (f'<tr id="{self.vid[id(v)]}"><td><span class="sev {_e(v.severity)}">{_e(v.severity)}</span></td>'
                f"<td><code>{_e(v.rule)}</code></td><td class=\"where\">{where}</td>"
                f'<td class="num">{_e(fmt_num(v.expected))}</td><td class="num">{_e(fmt_num(v.actual))}</td>'
                f'<td class="num"><b>{_e(fmt_imbalance(v.imbalance))}</b>{tol}</td>'
                f'<td class="suspect-list">{suspects}</td></tr>')

    # --- grids --------------------------------------------------------------------------------
    def _slices(self, g: int, serious: bool) -> list[str]:
        out: list[str] = []
        for sl in self.slices.values():
            if sl.home == (g, serious):
                out += self._grid(sl)
        if out:
            out.append('<p class="legend"><span class="l-fail">failing cell</span><span class="l-info">info finding'
                       '</span><span class="l-acc">accepted</span><span class="l-sus">suspect cell</span> '
                       "a marked cell links to its finding</p>")
        return out

    def _keep(self, labels: list[str], flagged: set[int], limit: int, context: set[int] = frozenset()) -> list[int]:
        """All positions when there are few; else the totals among the first, the flagged ones and
        their neighbours (to compare with), and the other cells of the failing checks."""
        n = len(labels)
        if n <= limit:
            return list(range(n))
        keep = set(flagged) | set(context)
        if len(flagged) <= 10:
            keep |= {j for i in flagged for j in (i - 1, i + 1) if 0 <= j < n}
        keep |= {i for i in range(min(n, 3)) if _is_total(labels[i])} or {0}
        return sorted(keep)

    def _grid(self, sl: _Slice) -> list[str]:
        t = sl.table
        r_ax, c_ax = sl.axes
        rdim = t.dimensions[r_ax] if r_ax is not None else None
        cdim = t.dimensions[c_ax] if c_ax is not None else None
        n_r, n_c = (len(rdim) if rdim else 1), (len(cdim) if cdim else 1)
        marked = set(sl.fails) | set(sl.suspects)
        r_labels = list(rdim.labels) if rdim else [""]
        c_labels = list(cdim.labels) if cdim else [""]
        rows = self._keep(r_labels, {r for r, _ in marked}, self.grid_rows, sl.context)
        cols = self._keep(c_labels, {c for _, c in marked}, self.grid_cols)
        serious_cells = {rc for rc, vs in sl.fails.items() if any(is_serious(v) for _, v in vs)}
        hl_rows, hl_cols = {r for r, _ in serious_cells}, {c for _, c in serious_cells}
        fixed = [f"{_e(d.label or d.name)} = <b>{_e(d.labels[sl.fixed[ax]])}</b>"
                 for ax, d in enumerate(t.dimensions) if ax not in sl.axes]
        names = " × ".join(_e(d.label or d.name) for d in (rdim, cdim) if d is not None) or "one cell"
        cap = f"<b>{_e(t.id)}</b>: {names}"
        if fixed:
            cap += " at " + ", ".join(fixed)
        if len(rows) < n_r:
            cap += f"; {len(rows)} of {n_r} rows shown"
        if len(cols) < n_c:
            cap += f"; {len(cols)} of {n_c} columns shown"
        out = ['<figure class="slice">', f"<figcaption>{cap}</figcaption>", '<div class="grid-wrap">',
               f'<table class="grid" data-table="{_e(t.id)}">', "<thead><tr><th></th>"]
        for c in cols:
            label = cdim.labels[c] if cdim else ""
            cls = " ".join(x for x, on in (("hl", c in hl_cols), ("total", _is_total(label))) if on)
            out.append(f'<th class="{cls}" scope="col">{_e(label)}</th>')
        out += ["</tr></thead>", "<tbody>"]
        values, symbols = t.values, t.symbols
        prev = -1
        for r in rows:
            if r != prev + 1:
                out.append(f'<tr class="gap"><th></th><td colspan="{len(cols)}">… {_rows(r - prev - 1)}</td></tr>')
            prev = r
            label = rdim.labels[r] if rdim else ""
            th_cls = ' class="hl"' if r in hl_rows else ""
            tr_cls = ' class="total"' if _is_total(label) else ""
            cells = [f'<tr{tr_cls}><th{th_cls} scope="row">{_e(label)}</th>']
            for c in cols:
                idx = sl.full(r, c)
                cells.append(_grid_cell(cell_id(sl.ti, idx), float(values[idx]), int(symbols[idx]),
                                        sl.fails.get((r, c), []), sl.suspects.get((r, c), [])))
            out.append("".join(cells) + "</tr>")
        if rows and rows[-1] != n_r - 1:
            out.append(f'<tr class="gap"><th></th><td colspan="{len(cols)}">… {_rows(n_r - 1 - rows[-1])}</td></tr>')
        return [*out, "</tbody>", "</table>", "</div>", "</figure>"]

    # --- plot ---------------------------------------------------------------------------------
    def plot_section(self) -> list[str]:
        per: dict[str, list[Violation]] = {}
        for _, vs in self.groups:
            for v in vs:
                if v.imbalance == v.imbalance:
                    per.setdefault(v.rule, []).append(v)
        if not per:
            return []
        order = sorted(per, key=lambda k: (-max(SEVERITY_RANK[v.severity] for v in per[k]), k))
        return ['<section id="imbalances">', "<h2>Imbalances per rule</h2>",
                '<p class="sub">Each dot is one finding: its imbalance (actual − expected) on a symmetric log '
                "scale. Errors are red and link to their finding; infos are blue, accepted findings green.</p>",
                imbalance_plot([(k, per[k]) for k in order], self.vid), "</section>"]

    # --- rules, cross-table checks, inputs ----------------------------------------------------
    def rules_section(self) -> list[str]:
        r = self.result
        out = ['<section id="rules">', "<h2>Rules</h2>"]
        if not r.outcomes:
            return [*out, "<p>No rule applied to these tables.</p>", "</section>"]
        order = {"failed": 0, "skipped": 1, "info": 2, "passed": 3}
        flagged = sorted((o for o in r.outcomes if rule_status(o) != "passed"), key=lambda o: order[rule_status(o)])
        passed = [o for o in r.outcomes if rule_status(o) == "passed"]
        if flagged:
            out += self._rules_table(flagged)
        if passed:
            out += [f"<details><summary>{_e(plural(len(passed), 'rule check'))} passed</summary>",
                    *self._rules_table(passed), "</details>"]
        return [*out, "</section>"]

    def _rules_table(self, outcomes: list) -> list[str]:
        out = ['<table class="rules">', "<thead><tr><th>status</th><th>rule</th><th>table</th><th>description</th>"
               '<th class="num">checked</th><th class="num">passed</th><th class="num">failed</th>'
               '<th class="num">skipped</th><th>severity</th></tr></thead>', "<tbody>"]
        for o in outcomes:
            status = rule_status(o)
            sev = worst_severity(o.violations) or o.rule.severity
            desc = (o.rule.description or o.rule.expression or "").strip()
            sev_html = (f'<span class="sev {_e(sev)}">{_e(sev)}</span>' if status in ("failed", "info")
                        else f'<span class="muted">{_e(o.rule.severity)}</span>')
            out.append(
                f'<tr class="status-{status}"><td><span class="status {status}">{status}</span></td>'
                f'<td><code>{_e(o.rule.id)}</code></td><td class="tbl">{_e(o.table)}</td><td class="msg desc">{_e(desc)}</td>'
                f'<td class="num">{fmt_num(o.checked)}</td><td class="num">{fmt_num(o.passed)}</td>'
                f'<td class="num">{fmt_num(o.failed)}</td><td class="num">{fmt_num(o.skipped)}</td>'
                f"<td>{sev_html}</td></tr>")
        return [*out, "</tbody>", "</table>"]

    def not_applied_section(self) -> list[str]:
        """Rules that checked nothing, each with the nearest miss."""
        rows = self.result.not_applied
        if not rows and not self.result.warnings:
            return []
        items = [f"<li><code>{_e(n.rule)}</code>: {_e(n.why)}</li>" for n in rows]
        items += [f"<li>⚠ {_e(w)}</li>" for w in self.result.warnings]
        return ['<section id="not-applied">', f"<h2>Rules not applied ({fmt_num(len(rows))}) and warnings</h2>",
                "<p>No table of the release fits these rules (the nearest miss says why); warnings are about "
                "the audit itself.</p>",
                '<ul class="compact">', *items, "</ul>", "</section>"]

    def cross_passed_section(self) -> list[str]:
        passed = passed_cross_table(self.result)
        if not passed:
            return []
        items = [f"<li>✓ <code>{_e(o.rule.id)}</code> {_e(o.table)} ({_e(agree_text(o.checked))})</li>"
                 for o in passed]
        return ['<section id="cross-table">', "<h2>Cross-table checks passed</h2>", '<ul class="compact">',
                *items, "</ul>", "</section>"]

    def inputs_section(self) -> list[str]:
        r = self.result
        notes = [(t.id, n) for t in r.tables for n in t.notes]
        out = ['<section id="inputs">', "<h2>Tables and inputs</h2>", "<table>",
               '<thead><tr><th>table</th><th>title</th><th>dimensions</th><th class="num">cells</th>'
               "<th>family</th><th>source</th></tr></thead>", "<tbody>"]
        for t in r.tables:
            dims = " × ".join(f"{d.label or d.name} [{len(d)}]" for d in t.dimensions)
            out.append(f"<tr><td>{_e(t.id)}</td><td>{_e(t.title)}</td><td>{_e(dims)}</td>"
                       f'<td class="num">{fmt_num(t.size)}</td><td>{_e(r.families.get(t.id, ""))}</td>'
                       f'<td><code>{_e(t.source)}</code></td></tr>')
        out += ["</tbody>", "</table>"]
        if notes:
            out += [f"<details><summary>{_e(plural(len(notes), 'reader note'))}: what the readers decided "
                    "about the files</summary>", '<ul class="compact notes">']
            out += [f"<li><b>{_e(tid)}</b>: {_e(n)}</li>" for tid, n in notes]
            out += ["</ul>", "</details>"]
        if r.ignored:
            out += [f"<details><summary>{_e(plural(len(r.ignored), 'ignored file'))}</summary>",
                    '<ul class="compact ignored">']
            out += [f"<li><code>{_e(f)}</code>: {_e(why)}</li>" for f, why in r.ignored]
            out += ["</ul>", "</details>"]
        return [*out, "</section>"]


def _rows(n: int) -> str:
    return f"{fmt_num(n)} row" if n == 1 else f"{fmt_num(n)} rows"


def _is_total(label: str) -> bool:
    """Totals and subtotals (`Total`, `Africa total`, `The whole country`) are drawn bold."""
    return "total" in label.lower() or is_total_label(label)


def _grid_cell(anchor: str, value: float, symbol: int, fails: list[tuple[str, Violation]],
               suspects: list[tuple[str, dict[str, Any]]]) -> str:
    classes, tips = [], []
    if np.isnan(value) or symbol == sym.NIL:
        text = sym.TEXT[symbol]
        classes.append("sym")
    elif symbol == sym.NUMBER:
        text = fmt_num(value)
    else:
        text = f"{fmt_num(value)} {sym.TEXT[symbol]}"
    if fails:
        worst = max((v.severity for _, v in fails), key=lambda s: SEVERITY_RANK.get(s, 0))
        classes += ["fail", f"fail-{worst}"]
        if all(v.accepted for _, v in fails):
            classes.append("fail-accepted")
        for _, v in fails:
            tips.append(f"{v.severity} {v.rule}: expected {fmt_num(v.expected)}, actual {fmt_num(v.actual)}, "
                        f"imbalance {fmt_imbalance(v.imbalance)}")
    if suspects:
        classes.append("suspect")
        for _, s in suspects:
            tip = f"suspect ({s.get('rule')}): published {fmt_num(s.get('actual'))}"
            if s.get("suggested") is not None:
                tip += f", suggested {fmt_num(s.get('suggested'))}"
            tips.append(tip)
    attrs = ""
    if fails or suspects:
        attrs += f' id="{anchor}"'
    if classes:
        attrs += f' class="{" ".join(classes)}"'
    if tips:
        attrs += f' title="{_e(chr(10).join(tips))}"'
    if suspects and suspects[0][1].get("suggested") is not None:
        attrs += f' data-suggested="{_e(fmt_num(suspects[0][1]["suggested"]))}"'
    target = fails[0][0] if fails else suspects[0][0] if suspects else None
    body = f'<a href="#{target}">{_e(text)}</a>' if target else _e(text)
    return f"<td{attrs}>{body}</td>"


# --- the plot ------------------------------------------------------------------------------------
def _symlog(x: float) -> float:
    return math.copysign(math.log10(1 + abs(x)), x)


def imbalance_plot(rows: list[tuple[str, list[Violation]]], vid: dict[int, str] | None = None,
                   width: int = 960) -> str:
    """One inline SVG: a strip of dots per rule at each finding's signed imbalance (symmetric log scale).

    A log scale because one rule's imbalances run from 1 to thousands; symmetric so the
    sign (published too high or too low) stays readable. No script, no font download.
    """
    vid = vid or {}
    left, right, row_h, top, bottom = 250, 70, 30, 14, 40
    height = top + row_h * len(rows) + bottom
    span = max((abs(_symlog(v.imbalance)) for _, vs in rows for v in vs), default=1.0)
    decades = max(1, math.ceil(span - 1e-9))
    plot_w = width - left - right

    def x(value: float) -> float:
        return left + plot_w / 2 + _symlog(value) / decades * plot_w / 2

    out = [f'<svg class="plot" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="imbalances per rule">']
    y_end = top + row_h * len(rows)
    for k in range(-decades, decades + 1):
        value = math.copysign(10 ** abs(k), k) if k else 0
        xx = x(value)
        out.append(f'<line class="{"zero" if k == 0 else "grid"}" x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" '
                   f'y2="{y_end}"/>')
        out.append(f'<text class="tick" x="{xx:.1f}" y="{y_end + 15}" text-anchor="middle">'
                   f"{_e(fmt_imbalance(value))}</text>")
    out.append(f'<line class="axis" x1="{left}" y1="{y_end}" x2="{width - right}" y2="{y_end}"/>')
    out.append(f'<text class="tick" x="{left + plot_w / 2:.1f}" y="{y_end + 32}" text-anchor="middle">'
               "imbalance = actual − expected</text>")
    for i, (rule, vs) in enumerate(rows):
        y0 = top + row_h * i + row_h / 2
        out.append(f'<text x="{left - 10}" y="{y0 + 4:.1f}" text-anchor="end"><tspan class="sev">{_e(rule)}</tspan>'
                   "</text>")
        counts = {s: sum(1 for v in vs if v.severity == s) for s in ("error", "warning", "info")}
        label = ", ".join(plural(n, s) for s, n in counts.items() if n)
        out.append(f'<text class="tick" x="{width - right + 8}" y="{y0 + 4:.1f}">{_e(label)}</text>')
        # infos first so that errors are drawn on top
        for j, v in enumerate(sorted(vs, key=lambda v: SEVERITY_RANK.get(v.severity, 0))):
            jitter = ((j * 7919) % 17 - 8) / 8 * (row_h / 2 - 5) if v.severity == "info" else 0
            r = 5 if is_serious(v) else 4 if v.accepted else 3
            tip = _e(f"{v.table}: {fmt_where(v.where)}: imbalance {fmt_imbalance(v.imbalance)}")
            cls = f"{v.severity} accepted" if v.accepted else v.severity
            dot = (f'<circle class="{_e(cls)}" cx="{x(v.imbalance):.1f}" cy="{y0 + jitter:.1f}" r="{r}">'
                   f"<title>{tip}</title></circle>")
            if is_serious(v) and id(v) in vid:
                dot = f'<a href="#{vid[id(v)]}">{dot}</a>'
            out.append(dot)
    out.append("</svg>")
    return "\n".join(out)
