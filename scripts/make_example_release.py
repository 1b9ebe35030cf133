"""Build the bundled example release (src/migaudit/data/example_release/) from ../shared.

The package ships real SSB tables so `migaudit audit` has something true to check out of
the box. This script is the only way that folder is made: it is deterministic (same input
bytes → same output bytes) and re-runnable; it writes only its own files and leaves any
other file in the folder (a release config, say) alone.

    python scripts/make_example_release.py [--shared ../shared] [--out DIR]

- seeds 000 and 001 (printed tables): copied as text with the web navigation lines
  (`[...](#)`) removed, still tab-separated, for `migaudit.readers.printed`;
- seeds 002 and 004 (web pages whose cell borders were lost): every table recovered by
  `migaudit.readers.webtext`, one tidy JSON file per table (metadata and reader notes kept);
- the six machine-readable files of ../shared/ssb: copied with unchanged bytes;
- README.md saying what each file is and where it came from.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from migaudit.readers import tidy, webtext

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared"
DEFAULT_OUT = ROOT / "src" / "migaudit" / "data" / "example_release"

PRINTED = ("000_bde9bdc2cd03acc2.txt", "001_9afe6c9cbe8ed332.txt")
WEBTEXT = ("002_9f646cd996dae96d.txt", "004_99fd64565a2b4c95.txt")
SSB_FILES = (
    "01222_municipalities_2014K3-2016K3.jsonstat1.json",
    "01222_five_regions_DERIVED.jsonstat2.json",
    "national_quarterly_changes_2012K4-2021K1.csv",
    "county_annual_changes_2011_partial.csv",
    "immigration_emigration_by_citizenship_group_2018.csv",
    "statbank_export_nationality_by_county_2018-05.csv",
)
#: file names for the tables recovered from the web pages
TABLE_FILES = {
    "002-1": "002-1_migration_by_citizenship_group_2024.json",
    "002-2": "002-2_migrations_by_county_2024.json",
    "002-3": "002-3_immigration_emigration_1972-2024.json",
    "002-4": "002-4_internal_migration_2015-2024.json",
    "002-5": "002-5_internal_migration_by_level_2024.json",
    "004-1": "004-1_population_and_changes_2021K2.json",
    "004-2": "004-2_migration_by_citizenship_2021K2.json",
    "004-3": "004-3_population_by_age_2021-01-01.json",
    "004-4": "004-4_foreign_citizens_by_citizenship_and_sex_2021-01-01.json",
}
_NAV = re.compile(r"^\[[^\[\]]*\]\([^()\s]*\)\s*$")
_NUMBERED_TITLE = re.compile(r"^\d{1,3}\s+(\S.*)$")

SSB_DESCRIPTIONS = {
    "01222_municipalities_2014K3-2016K3.jsonstat1.json":
        "A real StatBank API response, unchanged bytes: table 01222 \"Population and changes "
        "during the quarter\", JSON-stat 1.x, 430 municipalities × 10 contents × 2014K3–2016K3 "
        "(SSB ready-made dataset 1106, updated 2016-12-16).",
    "01222_five_regions_DERIVED.jsonstat2.json":
        "The same numbers for 5 regions in the JSON-stat 2.0 layout. Derived from the file "
        "above, not an SSB response.",
    "national_quarterly_changes_2012K4-2021K1.csv":
        "Whole-country quarterly population changes for 20 quarters, transcribed from SSB "
        "\"Population and changes during quarter\" pages.",
    "county_annual_changes_2011_partial.csv":
        "Population 1 Jan 2011 → 1 Jan 2012 and the changes during 2011, whole country and 14 "
        "counties (the page excerpt stops at Møre og Romsdal), transcribed from an SSB page.",
    "immigration_emigration_by_citizenship_group_2018.csv":
        "Immigration, emigration and net migration 2018 (and net 2017) by citizenship group, "
        "transcribed from an SSB article.",
    "statbank_export_nationality_by_county_2018-05.csv":
        "A real SSB StatBank CSV export (`;` separator, title and period rows): nationality × "
        "county, May 2018; a format sample with `:` suppressions.",
}


def _printed_name(name: str, text: str) -> str:
    for line in text.splitlines():
        m = _NUMBERED_TITLE.match(line.strip())
        if m:
            slug = re.sub(r"[^a-z0-9]+", "_", m.group(1).lower()).strip("_")
            return f"{name[:3]}_{slug}.txt"
    return name


def _write(path: Path, data: bytes, written: list[str]) -> None:
    path.write_bytes(data)
    written.append(path.name)


def build(shared: Path, out: Path) -> list[str]:
    """Write the release into `out`; the names of the files written, in order."""
    seeds, ssb = shared / "seeds", shared / "ssb"
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    readme: list[str] = []

    for name in PRINTED:
        raw = (seeds / name).read_bytes().decode("utf-8")
        kept = [ln for ln in raw.splitlines(keepends=True) if not _NAV.match(ln.strip())]
        target = _printed_name(name, raw)
        _write(out / target, "".join(kept).encode("utf-8"), written)
        title = next((ln.strip() for ln in kept if _NUMBERED_TITLE.match(ln.strip())), name)
        readme.append(f"| `{target}` | printed SSB table \"{title}\", tab-separated, web "
                      f"navigation lines removed | `seeds/{name}` |")

    for name in WEBTEXT:
        tables = webtext.read((seeds / name).read_bytes(), f"seeds/{name}")
        for t in tables:
            t.source = f"seeds/{name}"
            target = TABLE_FILES.get(t.id) or f"{t.id}.json"
            text = tidy.write(t, None, "json")
            assert text is not None
            _write(out / target, text.encode("utf-8"), written)
            dims = " × ".join(f"{d.name}[{len(d)}]" for d in t.dimensions)
            period = t.meta.get("reference_period")
            readme.append(f"| `{target}` | \"{t.title}\"{f' ({period})' if period else ''}: "
                          f"{dims}, recovered by `migaudit.readers.webtext` "
                          f"(reader notes: {len(t.notes)}) | `seeds/{name}` |")

    for name in SSB_FILES:
        shutil.copyfile(ssb / name, out / name)
        written.append(name)
        readme.append(f"| `{name}` | {SSB_DESCRIPTIONS[name]} | `ssb/{name}` |")

    text = README_HEAD + "\n".join(readme) + "\n" + README_TAIL
    _write(out / "README.md", text.encode("utf-8"), written)
    return written


README_HEAD = """\
# Example release: real Statistics Norway (SSB) tables

All numbers are Statistics Norway's own (Statistisk sentralbyrå, https://www.ssb.no),
published under CC BY 4.0 / the Norwegian Licence for Open Government Data (NLOD); cite
"Statistisk sentralbyrå". This folder is generated by `scripts/make_example_release.py`
from the project's source material (`seeds/…`: SSB pages copied as text; `ssb/…`:
machine-readable SSB files); do not edit the generated files by hand.

| file | what it is | made from |
|---|---|---|
"""

README_TAIL = """
## How the web-page tables were recovered
The `002-*` and `004-*` files come from ssb.no pages copied as text, where the cell borders
were lost (`Total66 07731 96834 10952 578`). `migaudit.readers.webtext` enumerates every
split of each row into the header's columns and keeps the one the table's own arithmetic
(net = in − out, total = males + females, the decimals of each column) allows; every such
choice, and every other decision (a row with a lone `-` where three percentages belong,
a repeated `Net immigration` column read as 2023), is a note inside the file.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    written = build(args.shared, args.out)
    print(f"wrote {len(written)} files to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
