"""The terminal report: a summary per rule and the violations grouped by table (rich)."""

from __future__ import annotations

import io
from collections import defaultdict

from rich.console import Console
from rich.table import Table as RichTable

from ..result import AuditResult

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:,.0f}".replace(",", " ") if float(x).is_integer() else f"{x:g}"


def render(result: AuditResult, width: int = 120, color: bool = False, max_rows: int = 40) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, color_system="standard" if color else None)
    print_report(result, console, max_rows)
    return buf.getvalue()


def print_report(result: AuditResult, console: Console, max_rows: int = 40) -> None:
    d = result.to_dict()
    s = d["summary"]
    console.print(f"[bold]migaudit {d['migaudit']}[/bold]: {s['tables']} tables, {s['cells']:,} cells, "
                  f"{s['rules']} rules, {s['checked']:,} checks".replace(",", " "))
    for f, why in result.ignored:
        console.print(f"  [dim]ignored {f}: {why}[/dim]")
    summary = RichTable(title="Rules", show_lines=False, header_style="bold")
    for col in ("rule", "table", "severity", "checked", "passed", "failed", "skipped"):
        summary.add_column(col, justify="right" if col in ("checked", "passed", "failed", "skipped") else "left")
    for r in d["rules"]:
        style = _STYLE.get(r["severity"], "") if r["failed"] else ""
        summary.add_row(r["id"], r["table"], r["severity"], str(r["checked"]), str(r["passed"]),
                        f"[{style}]{r['failed']}[/{style}]" if style else str(r["failed"]), str(r["skipped"]))
    console.print(summary)
    by_table: dict[str, list[dict]] = defaultdict(list)
    for v in d["violations"]:
        by_table[v["table"]].append(v)
    for table, vs in by_table.items():
        grid = RichTable(title=f"Violations in {table}", header_style="bold", show_lines=False)
        for col in ("severity", "rule", "where", "expected", "actual", "imbalance", "suspect"):
            grid.add_column(col, justify="right" if col in ("expected", "actual", "imbalance") else "left",
                            overflow="fold")
        for v in vs[:max_rows]:
            where = ", ".join(f"{k}={val}" for k, val in v["where"].items())
            if v.get("other"):
                where += f"  ≠ {v['other']['table']}"
            sus = "; ".join(f"{', '.join(str(x) for x in s['where'].values())} → {_fmt(s.get('suggested'))}"
                            for s in v.get("suspects", [])[:2])
            style = _STYLE.get(v["severity"], "")
            grid.add_row(f"[{style}]{v['severity']}[/{style}]", v["rule"], where, _fmt(v["expected"]),
                         _fmt(v["actual"]), f"{v['imbalance']:+g}" if v["imbalance"] is not None else "", sus)
        if len(vs) > max_rows:
            grid.add_row("", f"… {len(vs) - max_rows} more", "", "", "", "", "")
        console.print(grid)
    verdict = "[bold green]OK[/bold green]" if result.ok else "[bold red]FAILED[/bold red]"
    console.print(f"{verdict}: {s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos")
