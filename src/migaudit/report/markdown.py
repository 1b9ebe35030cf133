"""Markdown for pull-request comments and GitHub job summaries (`$GITHUB_STEP_SUMMARY`).

Short by design: a verdict line, the counts, the worst findings, the errors and warnings
per table (at most `max_rows` each), accepted findings with their reasons, only the rules
that did not pass (the passing ones are counted), and the cross-table checks that passed
in one line each. Info findings, reader notes and ignored files fold into `<details>` so
they do not push the findings off screen.
"""

from __future__ import annotations

from migaudit.engine.dense import Violation
from migaudit.report.text import (
    agree_text,
    counts_text,
    fmt_imbalance,
    fmt_num,
    fmt_where,
    grouped_violations,
    is_serious,
    other_text,
    passed_cross_table,
    plural,
    rule_status,
    suspect_text,
    worst_findings,
    worst_severity,
)
from migaudit.result import AuditResult


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, newlines flattened."""
    s = "" if text is None else str(text)
    s = s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return s.replace("<", "&lt;").replace(">", "&gt;")


def _row(*cells: object) -> str:
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def render(result: AuditResult, max_rows: int = 20, title: str = "migaudit", **_: object) -> str:
    """The Markdown report of `result`; `max_rows` caps the findings listed per table."""
    d = result.to_dict()
    s = d["summary"]
    icon, word = ("✅", "passed") if result.ok else ("❌", "failed")
    lines = [f"### {icon} {cell(title)} audit {word}: {counts_text(result)}", ""]
    lines += ["| tables | cells | rules | checks | errors | warnings | infos |",
              "|---:|---:|---:|---:|---:|---:|---:|",
              _row(*(fmt_num(s[k]) for k in ("tables", "cells", "rules", "checked", "errors", "warnings", "infos"))),
              ""]
    if s["assumed"]:
        lines += [f"{fmt_num(s['assumed'])} more instances were assumed, not checked: identities the reader used "
                  "to split a row whose cell separators were lost.", ""]
    worst = worst_findings(result)
    if worst:
        lines += ["**Worst findings**", ""]
        lines += [f"{i}. **{v.severity}** `{cell(v.rule)}` in {cell(v.table)}: {cell(fmt_where(v.where))}, "
                  f"imbalance **{fmt_imbalance(v.imbalance)}**" for i, v in enumerate(worst, 1)]
        lines.append("")

    groups = list(grouped_violations(result))
    for group, vs in groups:
        serious = [v for v in vs if is_serious(v)]
        if not serious:
            continue
        lines += [f"#### Violations in {cell(group)}", "", *_HEAD]
        lines += [_violation_row(v) for v in serious[:max_rows]]
        if len(serious) > max_rows:
            lines.append(_row("", f"… and {fmt_num(len(serious) - max_rows)} more", "", "", "", "", ""))
        lines.append("")

    accepted = [v for v in result.violation_list if v.accepted]
    if accepted:
        lines += ["#### Accepted findings", "", "Known and explained; reported as info.", "", *_HEAD]
        lines += [_violation_row(v) for v in accepted[:max_rows]]
        if len(accepted) > max_rows:
            lines.append(_row("", f"… and {fmt_num(len(accepted) - max_rows)} more", "", "", "", "", ""))
        lines.append("")

    flagged = [o for o in result.outcomes if rule_status(o) != "passed" or o.skipped]
    rest = len(result.outcomes) - len(flagged)
    if flagged:
        order = {"failed": 0, "skipped": 1, "info": 2, "passed": 3}
        lines += ["#### Rules with findings", "",
                  "| rule | table | status | checked | passed | failed | skipped |",
                  "|---|---|---|---:|---:|---:|---:|"]
        for o in sorted(flagged, key=lambda o: order[rule_status(o)]):
            status = rule_status(o)
            if status == "failed":
                status = f"failed ({worst_severity(o.violations) or o.rule.severity})"
            lines.append(_row(f"`{o.rule.id}`", o.table, status, fmt_num(o.checked), fmt_num(o.passed),
                              fmt_num(o.failed), fmt_num(o.skipped)))
        lines.append("")
    if result.outcomes:
        lines += [f"{plural(rest, 'other rule check')} passed." if flagged
                  else f"All {plural(rest, 'rule check')} passed.", ""]
    else:
        lines += ["No rule applied to these tables.", ""]

    infos = [(g, [v for v in vs if v.severity == "info" and not v.accepted]) for g, vs in groups]
    infos = [(g, vs) for g, vs in infos if vs]
    if infos:
        n = sum(len(vs) for _, vs in infos)
        lines += [f"<details><summary>{plural(n, 'info finding')} (SSB conventions, not errors)</summary>", ""]
        for group, vs in infos:
            lines += [f"**{cell(group)}**", "", *_HEAD]
            lines += [_violation_row(v) for v in vs[:max_rows]]
            if len(vs) > max_rows:
                lines.append(_row("", f"… and {fmt_num(len(vs) - max_rows)} more", "", "", "", "", ""))
            lines.append("")
        lines += ["</details>", ""]

    if result.warnings:
        lines += ["#### Warnings about the audit", ""]
        lines += [f"- ⚠️ {cell(w)}" for w in result.warnings]
        lines.append("")

    if result.not_applied:
        lines += [f"#### Rules not applied ({fmt_num(len(result.not_applied))}: no table fits them)", ""]
        lines += [f"- `{n.rule}`: {cell(n.why)}" for n in result.not_applied]
        lines.append("")

    passed = passed_cross_table(result)
    if passed:
        lines += ["#### Cross-table checks passed", ""]
        lines += [f"- ✓ `{o.rule.id}` {cell(o.table)} ({agree_text(o.checked)})" for o in passed]
        lines.append("")

    notes = [(t.id, n) for t in result.tables for n in t.notes]
    if notes or result.ignored:
        lines += [f"<details><summary>{plural(len(notes), 'reader note')} and "
                  f"{plural(len(result.ignored), 'ignored file')}</summary>", ""]
        lines += [f"- **{cell(tid)}**: {cell(n)}" for tid, n in notes]
        lines += [f"- ignored `{cell(f)}`: {cell(why)}" for f, why in result.ignored]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


_HEAD = ["| severity | rule | cell | expected | actual | imbalance | suspects |",
         "|---|---|---|---:|---:|---:|---|"]


def _violation_row(v: Violation) -> str:
    where = fmt_where(v.where)
    if v.other:
        where += f" ≠ {other_text(v)}"
    if v.accepted:
        where += f" — accepted: {v.accepted}"
    suspects = "; ".join(suspect_text(s, v.table) for s in v.suspects[:3])
    if len(v.suspects) > 3:
        suspects += f"; … {len(v.suspects) - 3} more"
    return _row(v.severity, f"`{v.rule}`", where, fmt_num(v.expected), fmt_num(v.actual),
                fmt_imbalance(v.imbalance), suspects)
