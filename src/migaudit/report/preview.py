"""A readable preview of cubes for `migaudit read`: dimensions, sizes, symbols."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable

from migaudit.model.table import Table


def print_preview(tables: list[Table], console: Console | None = None) -> None:
    from migaudit.model.cube import Cube

    console = console or Console()
    for t in tables:
        cube = Cube.of(t)  # infers roles the reader left open (noted on the table)
        inferred = {d.name: d.role for d in cube.dims}
        console.print(f"[bold]{t.id or '(no id)'}[/bold] {t.title}")
        # one line each, however long the path: a wrapped path cannot be copied
        console.print(f"  source: {t.source}", soft_wrap=True, markup=False)
        console.print(f"  cells: {t.size:,}   unit: {t.unit or '-'}".replace(",", " "))
        grid = RichTable(show_header=True, header_style="bold")
        for col in ("dimension", "role", "size", "first categories"):
            grid.add_column(col)
        for d in t.dimensions:
            first = ", ".join(d.labels[:4]) + (" …" if len(d) > 4 else "")
            role = d.role or ""
            if inferred.get(d.name) != d.role:
                role = f"{inferred.get(d.name) or 'classification'} (inferred)"
            grid.add_row(d.name, role, str(len(d)), first)
        console.print(grid)
        counts = ", ".join(f"{k}: {v}" for k, v in t.symbol_counts().items())
        console.print(f"  symbols: {counts}   sum of numbers: {t.total():,.0f}".replace(",", " "))
        for note in t.notes:
            console.print(f"  note: {note}", markup=False)
        _print_structure(cube, console)
        console.print()


def _print_structure(cube, console: Console) -> None:  # noqa: ANN001 - a migaudit.model.cube.Cube
    """The inferred structure: a tree per dimension with each category's role and evidence."""
    from migaudit.structure.render import tree_lines
    from migaudit.structure.units import units_of

    units = units_of(cube.table)
    if units.rounded:
        console.print(f"  units: rounded figures, sums get a tolerance of {units.half_unit:g} per figure "
                      f"({units.describe(1).split('(', 1)[-1].rstrip(')')})", markup=False)
    lines = tree_lines(cube.structure)
    if lines:
        console.print("  [bold]structure[/bold] (roles and evidence; `migaudit suggest` writes it as rules)")
        for line in lines:
            console.print(f"  {line}", markup=False, highlight=False)
