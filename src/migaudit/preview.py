"""A readable preview of cubes for `migaudit read`: dimensions, sizes, symbols."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable

from .table import Table


def print_preview(tables: list[Table], console: Console | None = None) -> None:
    console = console or Console()
    for t in tables:
        console.print(f"[bold]{t.id or '(no id)'}[/bold] {t.title}")
        console.print(f"  source: {t.source}   cells: {t.size}   unit: {t.unit or '-'}")
        grid = RichTable(show_header=True, header_style="bold")
        for col in ("dimension", "role", "size", "first categories"):
            grid.add_column(col)
        for d in t.dimensions:
            first = ", ".join(d.labels[:4]) + (" …" if len(d) > 4 else "")
            grid.add_row(d.name, d.role or "", str(len(d)), first)
        console.print(grid)
        counts = ", ".join(f"{k}: {v}" for k, v in t.symbol_counts().items())
        console.print(f"  symbols: {counts}   sum of numbers: {t.total():,.0f}".replace(",", " "))
        for note in t.notes:
            console.print(f"  note: {note}", markup=False)
        _print_structure(t, console)
        console.print()


def _print_structure(table: Table, console: Console) -> None:
    """The inferred structure: a tree per dimension with each category's role and evidence."""
    from .cube import Cube
    from .structure.render import tree_lines

    lines = tree_lines(Cube.of(table).structure)
    if lines:
        console.print("  [bold]structure[/bold] (roles and evidence; `migaudit suggest` writes it as rules)")
        for line in lines:
            console.print(f"  {line}", markup=False, highlight=False)
