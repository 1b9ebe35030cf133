"""The terminal report: verdict, rules with findings, violations one per line, passed cross-table checks.

Written line by line (not as a rich grid) so a violation stays readable at 80 columns in a
CI log: the cell it names is the point of the report and must never be folded into a
one-word-wide column. The small helpers here (`fmt_num`, `fmt_where`, `rule_status`, ...)
are shared by the Markdown, HTML and JUnit reports so every format says the same thing.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.text import Text

from ..engine import Outcome, Violation
from ..result import SEVERITY_RANK, AuditResult

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
#: rule ids of the checks that compare two tables
CROSS_TABLE_KINDS = ("cross_table",)


# --- shared helpers -------------------------------------------------------------------------
def fmt_num(x: float | None) -> str:
    """A cell value as SSB prints it: space as thousands separator, no trailing `.0`."""
    if x is None or x != x:  # None or NaN
        return ""
    if float(x).is_integer():
        return f"{x:,.0f}".replace(",", " ")
    return f"{x:,.6g}".replace(",", " ")


def fmt_imbalance(x: float | None) -> str:
    """An imbalance with its sign, so `+3` and `-3` read as direction, not just size."""
    if x is None or x != x:
        return ""
    text = fmt_num(abs(x))
    return f"+{text}" if x > 0 else f"-{text}" if x < 0 else "0"


def fmt_where(where: dict[str, Any] | None, sep: str = " · ") -> str:
    """`Region=Halden · Tid=2015K2`: the cell a violation is about, in the table's own words."""
    if not where:
        return ""
    return sep.join(f"{k}={v}" for k, v in where.items())


def is_cross_table(outcome: Outcome) -> bool:
    """True for outcomes that compare two tables (their `table` reads `A = B`)."""
    return outcome.rule.kind in CROSS_TABLE_KINDS


def worst_severity(violations: list[Violation]) -> str | None:
    """The highest severity among `violations` (a rule may report below its own severity)."""
    if not violations:
        return None
    return max((v.severity for v in violations), key=lambda s: SEVERITY_RANK.get(s, 0))


def rule_status(outcome: Outcome) -> str:
    """`failed` (error/warning findings), `info` (only infos), `skipped` (nothing checkable) or `passed`."""
    if outcome.failed or outcome.violations:
        worst = worst_severity(outcome.violations) or outcome.rule.severity
        return "info" if worst == "info" else "failed"
    if outcome.checked == 0 and outcome.skipped > 0:
        return "skipped"
    return "passed"


def grouped_violations(result: AuditResult) -> Iterator[tuple[str, list[Violation]]]:
    """(group, violations) per table in release order, then per cross-table pair; errors first.

    Most severe first so that a capped listing never hides an error behind many infos.
    """
    groups: dict[str, list[Violation]] = {t.id: [] for t in result.tables}
    cross: dict[str, list[Violation]] = {}
    for o in result.outcomes:
        target = cross.setdefault(o.table, []) if is_cross_table(o) else groups.setdefault(o.table, [])
        target.extend(o.violations)
    for name, vs in [*groups.items(), *cross.items()]:
        if vs:
            yield name, sorted(vs, key=lambda v: -SEVERITY_RANK.get(v.severity, 0))


def passed_cross_table(result: AuditResult) -> list[Outcome]:
    """Cross-table comparisons that found nothing: worth showing, they are the release's glue."""
    return [o for o in result.outcomes if is_cross_table(o) and rule_status(o) == "passed" and o.checked]


def other_text(v: Violation) -> str:
    """The other table of a cross-table violation, with its cell when it is named differently."""
    if not v.other:
        return ""
    table, where = v.other.get("table", "?"), v.other.get("where")
    return f"{table}" if not where or where == v.where else f"{table}: {fmt_where(where)}"


def suspect_text(s: dict[str, Any], table: str | None = None) -> str:
    """`citizenship=Denmark · region=Oslo: 280 → 180` (the table named when not `table`)."""
    where = fmt_where(s.get("where"))
    other = s.get("table")
    head = f"{other}: {where}" if other and other != table else where
    out = f"{head}: {fmt_num(s.get('actual'))}"
    if s.get("suggested") is not None:
        out += f" → {fmt_num(s.get('suggested'))}"
    elif s.get("lower") is not None or s.get("upper") is not None:  # only bounds speak: a range
        lo, hi = s.get("lower"), s.get("upper")
        out += f" → {fmt_num(lo) if lo is not None else '−∞'} … {fmt_num(hi) if hi is not None else '∞'}"
    if s.get("tie_size"):
        more = "+" if s.get("tie_complete") is False else ""
        out += f" (tie: alternative {s.get('alternative', 0) + 1} of {s['tie_size']}{more})"
    return out


# --- the report --------------------------------------------------------------------------------
def render(result: AuditResult, width: int = 100, color: bool = False, max_rows: int = 40) -> str:
    """The report as plain text (ANSI colours when `color`), wrapped to `width` columns."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, color_system="standard" if color else None,
                      highlight=False)
    print_report(result, console, max_rows)
    return buf.getvalue()


def print_report(result: AuditResult, console: Console, max_rows: int = 40) -> None:
    """Print the report on `console`, wrapped to its width (80 when it is not a terminal)."""
    width = max(40, console.width)
    out = _Printer(console, width)
    d = result.to_dict()
    s = d["summary"]
    out.line(Text.assemble(("migaudit " + d["migaudit"], "bold"),
                           f": {s['tables']} tables, {_n(s['cells'])} cells, {s['rules']} rules, "
                           f"{_n(s['checked'])} checks"))
    _print_inputs(result, out)
    _print_rules(result, out)
    _print_violations(result, out, max_rows)
    _print_cross_passed(result, out)
    _print_intervals(result, out, max_rows)
    verdict = Text("OK", "bold green") if result.ok else Text("FAILED", "bold red")
    out.blank()
    out.line(Text.assemble(verdict, f": {s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos"))


def _print_intervals(result: AuditResult, out: _Printer, max_rows: int) -> None:
    """Suppressed cells (:) and the range the published cells leave for each."""
    shown = result.intervals[:max_rows]
    if not shown:
        return
    out.blank()
    out.line(Text.assemble(("Suppressed cells", "bold"), f" ({len(result.intervals)}, the range each must lie in)"))
    for e in shown:
        rng = "no room (inconsistent)" if e.get("empty") else (
            f"{fmt_num(e['lower']) if e['lower'] is not None else '−∞'} … "
            f"{fmt_num(e['upper']) if e['upper'] is not None else '∞'}")
        out.wrapped(f"{e['table']}: {_glue(fmt_where(e['where']))}  {rng}", indent="  ")
    if len(result.intervals) > len(shown):
        out.line(Text(f"  … and {len(result.intervals) - len(shown)} more", "dim"))


def _n(x: int) -> str:
    return f"{x:,}".replace(",", " ")


class _Printer:
    """Lines wrapped by us (rich's own wrapping would break a cell name mid-word)."""

    def __init__(self, console: Console, width: int) -> None:
        self.console = console
        self.width = width

    def line(self, text: Text | str) -> None:
        self.console.print(text if isinstance(text, Text) else Text(text), soft_wrap=True, crop=False)

    def blank(self) -> None:
        self.console.print()

    def wrapped(self, text: str, indent: str = "", hang: str = "    ", style: str = "") -> None:
        for ln in wrap(text, self.width, indent, indent + hang):
            self.line(Text(ln, style))


_GLUE = "\u2060"  # word joiner: kept between the words of one `dim=label` while wrapping


def _glue(where: str) -> str:
    """Keep each `dim=label` on one line: wrap only at the ` · ` separators when possible."""
    return " · ".join(part.replace(" ", _GLUE) for part in where.split(" · "))


def wrap(text: str, width: int, indent: str = "", hang: str = "") -> list[str]:
    """textwrap that does not break inside a glued `dim=label`."""
    lines = textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=hang,
                          break_on_hyphens=False) or [indent]
    return [ln.replace(_GLUE, " ") for ln in lines]


def _print_inputs(result: AuditResult, out: _Printer) -> None:
    for f, why in result.ignored:
        out.wrapped(f"ignored {f}: {why}", indent="  ", style="dim")
    for t in result.tables:
        for note in t.notes:
            out.wrapped(f"note {t.id}: {note}", indent="  ", style="dim")


def _print_rules(result: AuditResult, out: _Printer, limit: int = 25) -> None:
    outcomes = result.outcomes
    if not outcomes:
        out.line("  no rule applied to these tables")
        return
    shown = outcomes if len(outcomes) <= limit else [o for o in outcomes if rule_status(o) != "passed"]
    hidden = len(outcomes) - len(shown)
    out.blank()
    out.line(Text("Rules", "bold"))
    rule_w = min(30, max([len("rule")] + [len(o.rule.id) for o in shown]))
    nums = ("checked", "passed", "failed", "skipped")
    num_w = [max(len(h), *(len(_n(getattr(o, h))) for o in shown)) for h in nums] if shown else [len(h) for h in nums]
    fixed = 2 + rule_w + 2 + 8 + 2 + sum(w + 2 for w in num_w)
    table_w = max(8, out.width - fixed)
    if shown:
        head = f"  {'rule':<{rule_w}}  {'severity':<8}  " + "  ".join(
            f"{h:>{w}}" for h, w in zip(nums, num_w, strict=True)) + "  table"
        out.line(Text(head, "bold"))
    for o in shown:
        status = rule_status(o)
        rid = o.rule.id if len(o.rule.id) <= rule_w else o.rule.id[: rule_w - 1] + "…"
        line = Text(f"  {rid:<{rule_w}}  ")
        sev = worst_severity(o.violations) or o.rule.severity
        line.append(f"{sev:<8}", STYLE.get(sev, "") if status in ("failed", "info") else "")
        for h, w in zip(nums, num_w, strict=True):
            val = f"  {_n(getattr(o, h)):>{w}}"
            style = STYLE.get(sev, "") if h == "failed" and o.failed else "dim" if h == "skipped" and o.skipped else ""
            line.append(val, style)
        table = o.table if len(o.table) <= table_w else o.table[: table_w - 1] + "…"
        line.append(f"  {table}")
        out.line(line)
    if hidden:
        out.line(Text(f"  … and {hidden} more rule checks, all passed", "dim"))


def _print_violations(result: AuditResult, out: _Printer, max_rows: int) -> None:
    for group, vs in grouped_violations(result):
        out.blank()
        counts = {s: sum(1 for v in vs if v.severity == s) for s in ("error", "warning", "info")}
        what = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
        out.line(Text.assemble(("Violations in ", "bold"), (group, "bold"), f" ({what})"))
        for v in vs[:max_rows]:
            _print_violation(v, out)
        if len(vs) > max_rows:
            out.line(Text(f"  … and {len(vs) - max_rows} more", "dim"))


def _print_violation(v: Violation, out: _Printer) -> None:
    sev = f"{v.severity:<7}"
    where = fmt_where(v.where)
    if v.other:
        where += f" · ≠ {other_text(v)}"
    numbers = f"expected {fmt_num(v.expected)}  actual {fmt_num(v.actual)}  imbalance {fmt_imbalance(v.imbalance)}"
    if v.actual != v.actual:  # no published number (a suppressed cell): the message says it
        numbers = v.message
    elif getattr(v, "bound", ""):  # a bound has a limit, never an expected value
        numbers = f"at least {fmt_num(v.expected)}  actual {fmt_num(v.actual)}  short by {fmt_num(-v.imbalance)}"
    if v.tolerance:
        numbers += f"  (tolerance {fmt_num(v.tolerance)})"
    one = f"  {sev} {v.rule}  {where}  {numbers}"
    style = STYLE.get(v.severity, "")
    if len(one) <= out.width:
        out.line(Text.assemble("  ", (sev, style), f" {v.rule}  {where}  {numbers}"))
    else:
        lines = wrap(f"{v.rule}  {_glue(where)}", out.width - 10, hang="  ")
        out.line(Text.assemble("  ", (sev, style), " ", lines[0]))
        for ln in lines[1:]:
            out.line("          " + ln)
        out.wrapped(numbers, indent="          ", hang="  ")
    for s in v.suspects[:3]:
        text = "suspect " + _glue(suspect_text(s, v.table))
        out.wrapped(text, indent="          ", hang="  ", style="magenta")
    if len(v.suspects) > 3:
        out.line(Text(f"          … and {len(v.suspects) - 3} more suspects", "dim"))


def _print_cross_passed(result: AuditResult, out: _Printer) -> None:
    passed = passed_cross_table(result)
    if not passed:
        return
    out.blank()
    out.line(Text("Cross-table checks passed", "bold"))
    for o in passed:
        out.wrapped(f"✓ {o.rule.id}  {o.table}  ({_n(o.checked)} figures agree)", indent="  ", hang="    ",
                    style="green")
