"""The terminal report: verdict first, then errors one per line, rules with findings, infos counted.

Written line by line (not as a rich grid) so a violation stays readable at 80 columns in a
CI log: the cell it names is the point of the report and must never be folded into a
one-word-wide column. The small helpers here (`fmt_num`, `fmt_where`, `rule_status`, ...)
are shared by the Markdown, HTML and JUnit reports so every format says the same thing.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.text import Text

from migaudit import __version__
from migaudit.engine.dense import Outcome, Violation
from migaudit.result import SEVERITY_RANK, AuditResult

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


def is_serious(v: Violation) -> bool:
    """Errors and warnings: the findings that fail a release (infos are conventions to know)."""
    return v.severity in ("error", "warning")


def grouped_violations(result: AuditResult) -> Iterator[tuple[str, list[Violation]]]:
    """(group, violations) per table, then per cross-table pair; groups with errors first.

    Groups are ordered by their worst finding (release order among equals), violations by
    severity, so that a capped listing never hides an error behind many infos.
    """
    groups: dict[str, list[Violation]] = {t.id: [] for t in result.tables}
    cross: dict[str, list[Violation]] = {}
    for o in result.outcomes:
        target = cross.setdefault(o.table, []) if is_cross_table(o) else groups.setdefault(o.table, [])
        target.extend(o.violations)
    found = [(name, vs) for name, vs in [*groups.items(), *cross.items()] if vs]
    found.sort(key=lambda g: -max(SEVERITY_RANK.get(v.severity, 0) for v in g[1]))
    for name, vs in found:
        yield name, sorted(vs, key=lambda v: -SEVERITY_RANK.get(v.severity, 0))


def worst_findings(result: AuditResult, k: int = 3) -> list[Violation]:
    """The `k` errors and warnings a reader should see first: most severe, then largest imbalance."""
    serious = [v for v in result.violation_list if is_serious(v)]
    serious.sort(key=lambda v: (-SEVERITY_RANK[v.severity], -abs(v.imbalance) if v.imbalance == v.imbalance else 0))
    return serious[:k]


def plural(n: int, word: str) -> str:
    """`1 error`, `2 errors`, `12 961 checks`: counts read as English."""
    return f"{fmt_num(n)} {word}{'' if n == 1 else 's'}"


def counts_text(result: AuditResult) -> str:
    """`1 error, 0 warnings, 497 infos (1 accepted)`: the counts every verdict line carries."""
    text = ", ".join(plural(result.count(s), s) for s in ("error", "warning", "info"))
    accepted = sum(1 for v in result.violation_list if v.accepted)
    return text + (f" ({fmt_num(accepted)} accepted)" if accepted else "")


def verdict_line(result: AuditResult) -> str:
    """`FAILED: 1 error, 0 warnings, 497 infos`: the one line `--quiet` prints."""
    return f"{'OK' if result.ok else 'FAILED'}: {counts_text(result)}"


def size_text(result: AuditResult) -> str:
    """`17 tables, 41 815 cells, 27 rules, 45 155 checks`: what was audited."""
    s = result.to_dict()["summary"]
    text = ", ".join(plural(s[k], w) for k, w in (("tables", "table"), ("cells", "cell"), ("rules", "rule"),
                                                    ("checked", "check")))
    if s["assumed"]:
        text += f" ({fmt_num(s['assumed'])} more assumed: identities the reader used to split a row)"
    return text


_NUMBER = re.compile(r"(?<![\w.])[+-]?\d+(?:\.\d+)?(?:e[+-]\d+)?(?![\w.])")


def fmt_message(v: Violation) -> str:
    """The engine's message with its own numbers (actual, expected, imbalance) printed as in the report.

    The engine writes `published 37474, components give 35934`; a reader sees `37 474` in
    the numbers beside it, so the message must say the same. Only numbers equal to one of
    the finding's values are touched: years and codes in the text stay as they are.
    """
    values = {x for x in (v.actual, v.expected, v.imbalance) if x is not None and x == x}

    def repl(m: re.Match[str]) -> str:
        token = m.group(0)
        try:
            x = float(token)
        except ValueError:
            return token
        if x not in values or (abs(x) < 1000 and "e" not in token):
            return token
        return fmt_imbalance(x) if token[0] in "+-" else fmt_num(x)

    return _NUMBER.sub(repl, v.message or "")


def finding_text(v: Violation) -> str:
    """What a finding says besides its numbers: the accept reason, else the engine's message."""
    if v.accepted:
        return f"accepted: {v.accepted}"
    return fmt_message(v)


def agree_text(n: int) -> str:
    """`1 figure agrees`, `12 figures agree`."""
    return f"{plural(n, 'figure')} {'agrees' if n == 1 else 'agree'}"


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
def render(result: AuditResult, width: int = 100, color: bool = False, max_rows: int = 40,
           verbose: bool = False, quiet: bool = False, **_: object) -> str:
    """The report as plain text (ANSI colours when `color`), wrapped to `width` columns.

    `quiet` prints the verdict line only (for scripts); `verbose` adds what a maintainer
    needs and a reader does not: every info finding, every rule, reader notes, ignored files.
    """
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, color_system="standard" if color else None,
                      highlight=False)
    print_report(result, console, max_rows, verbose=verbose, quiet=quiet)
    return buf.getvalue()


def print_report(result: AuditResult, console: Console, max_rows: int = 40, verbose: bool = False,
                 quiet: bool = False) -> None:
    """Print the report on `console`, wrapped to its width (80 when it is not a terminal).

    Order: verdict and counts, the worst findings, errors and warnings per table, the rules
    with findings, info findings (counted per rule unless `verbose`), accepted findings
    with their reasons, cross-table checks that passed, and the verdict again (CI logs are
    read from the bottom).
    """
    width = max(40, console.width)
    out = _Printer(console, width)
    verdict = _verdict(result)
    if quiet:
        out.line(verdict)
        return
    out.line(Text.assemble(("migaudit " + __version__, "bold"), "  ", verdict))
    out.line(Text(f"  {size_text(result)}", "dim"))
    worst = worst_findings(result)
    if worst:
        out.blank()
        out.line(Text("Worst findings", "bold"))
        for v in worst:
            out.wrapped(f"{v.severity} {v.rule} in {v.table}: {_glue(fmt_where(v.where))}  "
                        f"imbalance {fmt_imbalance(v.imbalance)}", indent="  ", hang="    ",
                        style=STYLE.get(v.severity, ""))
    _print_violations(result, out, max_rows, verbose)
    _print_rules(result, out, verbose)
    _print_unchecked(result, out)
    if not verbose:
        _print_info_summary(result, out)
    _print_accepted(result, out, verbose)
    _print_not_applied(result, out)
    _print_audit_warnings(result, out)
    _print_cross_passed(result, out)
    _print_intervals(result, out, max_rows)
    if verbose:
        _print_inputs(result, out)
    else:
        hidden = sum(not n.startswith(_UNCHECKED) for t in result.tables for n in t.notes) + len(result.ignored)
        if hidden:
            out.blank()
            out.line(Text(f"{plural(hidden, 'reader note')} and ignored files not shown (-v shows them)", "dim"))
    out.blank()
    out.line(verdict)


def _verdict(result: AuditResult) -> Text:
    word = Text("OK", "bold green") if result.ok else Text("FAILED", "bold red")
    return Text.assemble(word, ": " + counts_text(result))


_UNCHECKED = "structure: no rule found anything to check"


def _print_unchecked(result: AuditResult, out: _Printer) -> None:
    """Tables nothing was checked in, with the structure step's reason: never a silent 0 checks
    (the other reader notes wait for -v, this one does not)."""
    tables = [t for t in result.tables if any(n.startswith(_UNCHECKED) for n in t.notes)]
    if not tables:
        return
    out.blank()
    out.line(Text.assemble(("Nothing checked", "bold"), f" in {plural(len(tables), 'table')}"))
    for t in tables:
        # the dimensions' own notes say why (an index, no total, …); the general line closes
        why = [n for n in t.notes if n.startswith("structure: ") and not n.startswith(_UNCHECKED)
               and " taken as " not in n][:3]
        for note in why or [n for n in t.notes if n.startswith(_UNCHECKED)]:
            out.wrapped(f"{t.id}: {note.removeprefix('structure: ')}", indent="  ")


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
    if not result.ignored and not any(t.notes for t in result.tables):
        return
    out.blank()
    out.line(Text("Reader notes and ignored files", "bold"))
    for f, why in result.ignored:
        out.wrapped(f"ignored {f}: {why}", indent="  ", style="dim")
    for t in result.tables:
        for note in t.notes:
            out.wrapped(f"note {t.id}: {note}", indent="  ", style="dim")


def _print_rules(result: AuditResult, out: _Printer, verbose: bool) -> None:
    """Rules that failed, skipped or found infos; passing ones only counted unless `verbose`."""
    outcomes = result.outcomes
    if not outcomes:
        out.blank()
        out.line("  no rule applied to these tables")
        return
    order = {"failed": 0, "skipped": 1, "info": 2, "passed": 3}
    shown = outcomes if verbose else [o for o in outcomes if rule_status(o) != "passed"]
    shown = sorted(shown, key=lambda o: order[rule_status(o)])
    hidden = len(outcomes) - len(shown)
    out.blank()
    out.line(Text("Rules" if verbose else "Rules with findings", "bold"))
    if shown:
        rule_w = min(30, max([len("rule")] + [len(o.rule.id) for o in shown]))
        nums = ("checked", "passed", "failed", "skipped")
        num_w = [max(len(h), *(len(fmt_num(getattr(o, h))) for o in shown)) for h in nums]
        fixed = 2 + rule_w + 2 + 7 + 2 + sum(w + 2 for w in num_w)
        table_w = max(8, out.width - fixed)
        head = f"  {'rule':<{rule_w}}  {'status':<7}  " + "  ".join(
            f"{h:>{w}}" for h, w in zip(nums, num_w, strict=True)) + "  table"
        out.line(Text(head, "bold"))
    for o in shown:
        status = rule_status(o)
        sev = worst_severity(o.violations) or o.rule.severity
        rid = o.rule.id if len(o.rule.id) <= rule_w else o.rule.id[: rule_w - 1] + "…"
        line = Text(f"  {rid:<{rule_w}}  ")
        # a passing rule is not styled by its severity: "error" on a rule that held misleads
        style = STYLE.get(sev, "") if status == "failed" else STYLE["info"] if status == "info" else "dim"
        line.append(f"{status:<7}", style)
        for h, w in zip(nums, num_w, strict=True):
            val = f"  {fmt_num(getattr(o, h)):>{w}}"
            line.append(val, style if h == "failed" and o.failed and status != "passed" else
                        "dim" if h == "skipped" and o.skipped else "")
        table = o.table if len(o.table) <= table_w else o.table[: table_w - 1] + "…"
        line.append(f"  {table}")
        out.line(line)
    if hidden:
        out.line(Text(f"  … and {plural(hidden, 'more rule check')}, all passed (-v lists them)", "dim"))


def _print_violations(result: AuditResult, out: _Printer, max_rows: int, verbose: bool) -> None:
    """Errors and warnings per table; infos too when `verbose` (else they are counted per rule)."""
    for group, vs in grouped_violations(result):
        shown = vs if verbose else [v for v in vs if is_serious(v)]
        if not shown:
            continue
        out.blank()
        counts = {s: sum(1 for v in vs if v.severity == s) for s in ("error", "warning", "info")}
        what = ", ".join(plural(n, s) for s, n in counts.items() if n)
        out.line(Text.assemble(("Violations in ", "bold"), (group, "bold"), f" ({what})"))
        for v in shown[:max_rows]:
            _print_violation(v, out)
        if len(shown) > max_rows:
            out.line(Text(f"  … and {fmt_num(len(shown) - max_rows)} more", "dim"))


def _print_violation(v: Violation, out: _Printer, message: bool = False) -> None:
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
    if v.accepted:
        out.wrapped(f"accepted: {v.accepted}", indent="          ", hang="  ", style=STYLE["info"])
    elif message and v.message:
        out.wrapped(fmt_message(v), indent="          ", hang="  ", style="dim")
    for s in v.suspects[:3]:
        text = "suspect " + _glue(suspect_text(s, v.table))
        out.wrapped(text, indent="          ", hang="  ", style="magenta")
    if len(v.suspects) > 3:
        out.line(Text(f"          … and {len(v.suspects) - 3} more suspects", "dim"))


def _print_info_summary(result: AuditResult, out: _Printer) -> None:
    """Info findings counted per rule and table, with the range of their imbalances."""
    per: dict[tuple[str, str], list[Violation]] = {}
    for v in result.violation_list:
        if v.severity == "info" and not v.accepted:
            key = (v.rule, v.table if not v.other else f"{v.table} = {v.other.get('table', '?')}")
            per.setdefault(key, []).append(v)
    if not per:
        return
    n = sum(len(vs) for vs in per.values())
    out.blank()
    out.line(Text.assemble(("Info findings", "bold"), f" ({fmt_num(n)}; not errors, -v lists them)"))
    for (rule, table), vs in per.items():
        imb = [v.imbalance for v in vs if v.imbalance == v.imbalance]
        span = f"imbalance {fmt_imbalance(min(imb))} … {fmt_imbalance(max(imb))}" if len(imb) > 1 else \
            f"imbalance {fmt_imbalance(imb[0])}" if imb else ""
        out.wrapped(f"{rule}  {plural(len(vs), 'finding')} in {table}  {span}", indent="  ", hang="    ",
                    style=STYLE["info"])


def _print_accepted(result: AuditResult, out: _Printer, verbose: bool) -> None:
    """Accepted findings are always shown with their reason (in verbose mode they are listed above)."""
    accepted = [v for v in result.violation_list if v.accepted]
    if not accepted or verbose:
        return
    out.blank()
    out.line(Text.assemble(("Accepted findings", "bold"), f" ({fmt_num(len(accepted))}; reported as info)"))
    for v in accepted:
        _print_violation(v, out)


def _print_not_applied(result: AuditResult, out: _Printer) -> None:
    """Rules that checked nothing, with the nearest miss: a rule never passes silently."""
    if not result.not_applied:
        return
    out.blank()
    out.line(Text.assemble(("Rules not applied", "bold"), f" ({fmt_num(len(result.not_applied))}: no table fits them)"))
    for n in result.not_applied:
        out.wrapped(f"– {n.rule}: {n.why}", indent="  ", hang="    ", style="yellow")


def _print_audit_warnings(result: AuditResult, out: _Printer) -> None:
    """Messages about the audit itself (an accept entry that matches nothing, a limit met)."""
    if not result.warnings:
        return
    out.blank()
    out.line(Text("Warnings about the audit", "bold"))
    for w in result.warnings:
        out.wrapped(f"! {w}", indent="  ", hang="    ", style="yellow")


def _print_cross_passed(result: AuditResult, out: _Printer) -> None:
    passed = passed_cross_table(result)
    if not passed:
        return
    out.blank()
    out.line(Text("Cross-table checks passed", "bold"))
    for o in passed:
        out.wrapped(f"✓ {o.rule.id}  {o.table}  ({agree_text(o.checked)})", indent="  ", hang="    ",
                    style="green")
