"""`migaudit export`: write migaudit's rules in other tools' formats.

`migaudit export gx [--out DIR]` writes the Great Expectations suites (one JSON file per
rule family, into DIR or the current folder) so pipelines that run GX validate the same rules
migaudit does. The repository's own copies: `migaudit export gx --out expectations/gx`. Registered in cli.py as the `export` command.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export")
@click.argument("target", type=click.Choice(["gx"]))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="Folder for the files (created if needed; default: the current folder).")
@click.option("--rules", "rules", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Extra rule file or folder (adds to or overrides the default rules). Repeatable.")
def export_cmd(target: str, out: Path | None, rules: tuple[Path, ...]) -> None:
    """Write the rules as TARGET files (gx: one Great Expectations suite per rule family)."""
    from migaudit.extras import require
    from migaudit.rules.ruleset import load_rules

    require("gx")
    from migaudit.backends.gx import export_suites

    for path in export_suites(out, load_rules(*rules)):
        click.echo(str(path))
