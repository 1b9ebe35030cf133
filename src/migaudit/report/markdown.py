"""Markdown for pull-request comments and GitHub job summaries (`$GITHUB_STEP_SUMMARY`).

Short by design: a verdict line, the counts, only the rules that failed or skipped (the
passing ones are counted, not listed), at most `max_rows` violations per table, and the
cross-table checks that passed in one line each. Reader notes and ignored files fold
into `<details>` so they do not push the findings off screen.
"""

from __future__ import annotations

from ..engine import Violation
from ..result import AuditResult
from .text import (
    fmt_imbalance,
    fmt_num,
    fmt_where,
    grouped_violations,
    other_text,
    passed_cross_table,
    rule_status,
    suspect_text,
    worst_severity,
)


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, newlines flattened."""
    s = "" if text is None else str(text)
    s = s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return s.replace("<", "&lt;").replace(">", "&gt;")


def _row(*cells: object) -> str:
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def _n(x: int) -> str:
    return f"{x:,}".replace(",", " ")


def render(result: AuditResult, max_rows: int = 20, title: str = "migaudit", **_: object) -> str:
    """The Markdown report of `result`; `max_rows` caps the violations listed per table."""
    d = result.to_dict()
    s = d["summary"]
    icon, word = ("✅", "passed") if result.ok else ("❌", "failed")
    lines = [f"### {icon} {cell(title)} audit {word}: {s['errors']} errors, {s['warnings']} warnings, "
             f"{s['infos']} infos", ""]
    lines += ["| tables | cells | checks | errors | warnings | infos |", "|---:|---:|---:|---:|---:|---:|",
              _row(s["tables"], _n(s["cells"]), _n(s["checked"]), s["errors"], s["warnings"], s["infos"]), ""]

    flagged = [o for o in result.outcomes if rule_status(o) != "passed" or o.skipped]
    rest = len(result.outcomes) - len(flagged)
    if flagged:
        lines += ["#### Rules with findings", "",
                  "| rule | table | severity | checked | passed | failed | skipped |",
                  "|---|---|---|---:|---:|---:|---:|"]
        for o in flagged:
            sev = worst_severity(o.violations) or o.rule.severity
            lines.append(_row(f"`{o.rule.id}`", o.table, sev, _n(o.checked), _n(o.passed), _n(o.failed),
                              _n(o.skipped)))
        lines.append("")
    if result.outcomes:
        lines += [f"{rest} other rule check{'s' if rest != 1 else ''} passed." if flagged
                  else f"All {rest} rule checks passed.", ""]
    else:
        lines += ["No rule applied to these tables.", ""]

    for group, vs in grouped_violations(result):
        lines += [f"#### Violations in {cell(group)}", "",
                  "| severity | rule | cell | expected | actual | imbalance | suspects |",
                  "|---|---|---|---:|---:|---:|---|"]
        lines += [_violation_row(v) for v in vs[:max_rows]]
        if len(vs) > max_rows:
            lines.append(_row("", f"… and {len(vs) - max_rows} more", "", "", "", "", ""))
        lines.append("")

    passed = passed_cross_table(result)
    if passed:
        lines += ["#### Cross-table checks passed", ""]
        lines += [f"- ✓ `{o.rule.id}` {cell(o.table)} ({_n(o.checked)} figures agree)" for o in passed]
        lines.append("")

    notes = [(t.id, n) for t in result.tables for n in t.notes]
    if notes or result.ignored:
        lines += [f"<details><summary>Reader notes ({len(notes)}) and ignored files ({len(result.ignored)})"
                  "</summary>", ""]
        lines += [f"- **{cell(tid)}**: {cell(n)}" for tid, n in notes]
        lines += [f"- ignored `{cell(f)}`: {cell(why)}" for f, why in result.ignored]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def _violation_row(v: Violation) -> str:
    where = fmt_where(v.where)
    if v.other:
        where += f" ≠ {other_text(v)}"
    suspects = "; ".join(suspect_text(s, v.table) for s in v.suspects[:3])
    if len(v.suspects) > 3:
        suspects += f"; … {len(v.suspects) - 3} more"
    return _row(v.severity, f"`{v.rule}`", where, fmt_num(v.expected), fmt_num(v.actual),
                fmt_imbalance(v.imbalance), suspects)
