"""The `migaudit` command: read, audit, suggest, export.

User errors (`MigauditError`, bad options) print one line on stderr and exit 2; audit
findings at or above `--fail-on` exit 1. Heavy modules are imported inside commands.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from migaudit import __version__
from migaudit.errors import MigauditError


class _Group(click.Group):
    """Turns user errors into one clear line and exit code 2, never a traceback."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except MigauditError as e:
            click.echo(f"migaudit: error: {e}", err=True)
            sys.exit(2)
        except click.exceptions.NoArgsIsHelpError as e:
            click.echo(e.ctx.get_help() if e.ctx else str(e), err=True)
            sys.exit(2)
        except click.UsageError as e:
            click.echo(f"migaudit: error: {e.format_message()}", err=True)
            sys.exit(2)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("migaudit: aborted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migaudit")
def cli() -> None:
    """Audit the consistency of SSB population and migration statistics."""


@cli.command("read")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "to", type=click.Choice(["csv", "json", "parquet"]), help="Write the cube tidy in this format.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output file, or a folder (existing, or ending in /) for one file per table named by "
                   "table id. Default: stdout.")
@click.option("--table", "table_id", default=None, help="Only the table with this id (see the preview).")
@click.option("--format", "fmt", default=None, help="Force a reader (jsonstat, px, statbank_csv, printed, webtext, tidy, wide_csv).")
@click.option("--lang", "lang", default=None, help="Language of a multilingual PX file (default: its main LANGUAGE).")
def read_cmd(file: Path, to: str | None, output: Path | None, table_id: str | None, fmt: str | None,
             lang: str | None = None) -> None:
    """Read FILE and preview its cube, or write it tidy with --to.

    A file with several tables is written one file per table into a folder (-o DIR/), or
    one table at a time with --table ID; several tables never go to one file or to stdout.
    """
    from migaudit.readers import read, tidy

    tables = read(file, fmt, lang=lang)
    if table_id is not None:
        chosen = [t for t in tables if t.id == table_id]
        if not chosen:
            raise MigauditError(f"no table with id {table_id!r}", source=str(file),
                                expected="one of " + ", ".join(repr(t.id) for t in tables))
        tables = chosen
    if to is None:
        from migaudit.report.preview import print_preview

        print_preview(tables)
        return
    into_folder = output is not None and (output.is_dir() or str(output).endswith(("/", "\\")) or not output.suffix)
    if len(tables) > 1 and not into_folder:
        raise MigauditError(
            f"holds {len(tables)} tables ({', '.join(t.id for t in tables)}); one {to} file holds one table",
            source=str(file), expected="-o DIR/ for one file per table, or --table ID")
    for table in tables:
        out = output
        if into_folder:
            assert output is not None
            out = output / f"{_file_name(table.id)}.{to}"
        if out is not None:
            _make_parent(out)
        try:
            text = tidy.write(table, out, to)
        except OSError as e:
            raise MigauditError(f"cannot write: {e.strerror}", source=str(out)) from None
        if text is not None:
            click.echo(text, nl=False)
        else:
            click.echo(f"migaudit: wrote table {table.id} to {out}", err=True)


def _file_name(table_id: str) -> str:
    """A table id as a file name: the characters a file system may refuse become '_'."""
    import re

    return re.sub(r'[\\/:*?"<>|\s]+', "_", table_id).strip("._") or "table"


def _make_parent(path: Path) -> None:
    """Create the folder an output file goes into; a clear error when it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MigauditError(f"cannot create the output folder: {e.strerror}", source=str(path.parent)) from None


def _write_output(path: Path, text: str) -> None:
    _make_parent(path)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise MigauditError(f"cannot write: {e.strerror}", source=str(path)) from None


def example_release() -> Path:
    """The cleaned example release shipped inside the package."""
    from migaudit.resources import example_release as bundled

    return bundled()


@cli.command("audit")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rules", "rules", multiple=True, type=click.Path(path_type=Path),
              help="Extra rule file or folder (adds to or overrides the default rules). Repeatable.")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json", "junit", "markdown", "html"]),
              show_default=True, help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--fail-on", default="error", type=click.Choice(["error", "warning", "info", "never"]),
              show_default=True, help="Exit 1 when a violation at or above this severity is found.")
@click.option("--backend", default="native", type=click.Choice(["native", "pandera", "gx"]), show_default=True,
              help="Evaluate the rules with migaudit's engine, pandera or Great Expectations.")
@click.option("--no-cross-table", is_flag=True, help="Skip the checks across tables.")
@click.option("-v", "--verbose", is_flag=True, help="Text report: also every info finding, rule, reader note.")
@click.option("-q", "--quiet", is_flag=True, help="Text report: the verdict line only.")
@click.option("--engine", default="dense", type=click.Choice(["dense", "spark"]), show_default=True,
              help="Evaluate in memory (dense numpy) or on Apache Spark (needs migaudit[spark]).")
@click.option("--spark-master", default=None, metavar="URL",
              help="Spark master for --engine spark (default local[*], or Spark Connect at $SPARK_REMOTE).")
def audit_cmd(paths: tuple[Path, ...], rules: tuple[Path, ...], fmt: str, output: Path | None,
              fail_on: str, backend: str, no_cross_table: bool, verbose: bool = False, quiet: bool = False,
              engine: str = "dense", spark_master: str | None = None) -> None:
    """Audit PATHS (files or release folders; default: the bundled example release)."""
    from migaudit.report import render
    from migaudit.runner import run_audit

    targets = list(paths) or [example_release()]
    for p in targets:
        if not p.exists():
            raise MigauditError("no such file or folder", source=str(p))
    progress = sys.stderr.isatty() and not quiet  # spinners on a terminal only, never under --quiet
    result = run_audit(targets, list(rules), backend=backend, cross_table=not no_cross_table,
                       progress=progress, engine=engine, spark_master=spark_master)
    if fmt == "text" and output is None:
        from rich.console import Console

        from migaudit.report.text import print_report

        print_report(result, Console(), verbose=verbose, quiet=quiet)
    else:
        from migaudit.runner import _step

        with _step(f"writing the {fmt} report", progress):
            text = render(result, fmt, **({"verbose": verbose, "quiet": quiet} if fmt == "text" else {}))
        if output is None:
            click.echo(text, nl=False)
        else:
            _write_output(output, text)
            click.echo(f"migaudit: wrote {fmt} report to {output}", err=True)
    sys.exit(1 if result.fails(fail_on) else 0)


@cli.command("suggest")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the rules here.")
@click.option("--family", default=None, help="Family name of the rule file (default: from the table id).")
def suggest_cmd(file: Path, output: Path | None, family: str | None) -> None:
    """Write a rules file for FILE's table from its structure, keeping the rules that hold on it.

    Learn from last year's (trusted) release, then audit this year's with --rules.
    """
    from migaudit.model.cube import Cube
    from migaudit.readers import read
    from migaudit.rules.suggest import suggest, to_yaml
    from migaudit.structure.render import tree_lines

    chunks = []
    for table in read(file):
        ruleset = suggest(table)
        name = family or f"suggested_{table.id}".replace(" ", "_")
        tree = "".join(f"# {line}\n" for line in ["inferred structure (role, evidence):",
                                                   *tree_lines(Cube.of(table).structure)])
        chunks.append(tree + to_yaml(ruleset, name, f"Rules that held on {table.id} ({file.name}); review before use."))
        click.echo(f"migaudit: {table.id}: {len(ruleset)} rules hold", err=True)
    text = "---\n".join(chunks)
    if output is None:
        click.echo(text, nl=False)
    else:
        _write_output(output, text)
        click.echo(f"migaudit: wrote {output}", err=True)


def _register_export() -> None:
    from migaudit.export import export_cmd

    cli.add_command(export_cmd)


_register_export()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
