"""Build the PX test files from real SSB numbers (run: python tests/data/px/make_px.py).

No real PX file ships with ../shared, so these files carry real numbers in the PX layout:
  01222_five_regions.px   table 01222 (5 regions × 10 contents × 9 quarters) from the
                          JSON-stat 2.0 file, Norwegian labels (æøå) in ISO-8859-1 bytes,
                          `.` cells as ".", TIMEVAL quarters, CONTVARIABLE, an [en] translation.
  emigration_2011.px      "12 Emigration, by citizenship and region. 2011" from seed 000,
                          citizenship × region, "-" and "." cells, UTF-8 with CRLF lines.
The JSON and the seed text are parsed here directly (no migaudit readers involved).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2].parent / "shared"

#: SSB's Norwegian labels of table 01222's contents, in the file's order
CONTENTS_NO = {
    "Fodte2": "Fødte",
    "Dode3": "Døde",
    "Fodselsoverskudd4": "Fødselsoverskudd",
    "Innvandring5": "Innvandring",
    "Utvandring6": "Utvandring",
    "Tilflytting7": "Innflytting, innenlandsk",
    "Fraflytting8": "Utflytting, innenlandsk",
    "Nettoinnflytting9": "Nettoinnflytting, inklusive inn- og utvandring",
    "Folketilvekst10": "Folketilvekst",
    "Folketallet11": "Folketallet ved utgangen av kvartalet",
}
#: the region labels in Norwegian (the file's English label otherwise kept)
REGION_NO = {"0301": "Oslo kommune"}


def q(items: list[str], per_line: int = 1) -> str:
    quoted = [f'"{x}"' for x in items]
    return ",\n".join(",".join(quoted[i:i + per_line]) for i in range(0, len(quoted), per_line))


def ordered(cat: dict) -> list[str]:
    index = cat["index"]
    return sorted(index, key=index.__getitem__) if isinstance(index, dict) else list(index)


def make_01222() -> bytes:
    doc = json.loads((SHARED / "ssb" / "01222_five_regions_DERIVED.jsonstat2.json").read_text("utf-8"))
    regions = ordered(doc["dimension"]["Region"]["category"])
    contents = ordered(doc["dimension"]["ContentsCode"]["category"])
    quarters = ordered(doc["dimension"]["Tid"]["category"])
    reg_en = doc["dimension"]["Region"]["category"]["label"]
    con_en = doc["dimension"]["ContentsCode"]["category"]["label"]
    status = doc.get("status") or {}
    values = doc["value"]
    assert len(values) == len(regions) * len(contents) * len(quarters)
    cells = []
    for i, v in enumerate(values):
        st = status.get(str(i)) if isinstance(status, dict) else status[i]
        if v is None:
            assert st == ".", (i, st)
            cells.append('"."')
        else:
            cells.append(str(v))
    rows = [" ".join(cells[i:i + len(quarters)]) for i in range(0, len(cells), len(quarters))]
    reg_no = [REGION_NO.get(r, reg_en[r]) for r in regions]
    con_no = [CONTENTS_NO[c] for c in contents]
    lines = [
        'CHARSET="ANSI";',
        'AXIS-VERSION="2010";',
        'CODEPAGE="iso-8859-1";',
        'LANGUAGE="no";',
        'LANGUAGES="no","en";',
        'CREATION-DATE="20161216 14:29";',
        'DECIMALS=0;',
        'SHOWDECIMALS=0;',
        'MATRIX="01222";',
        'SUBJECT-AREA="Befolkning";',
        'SUBJECT-CODE="be";',
        'CONTENTS="Befolkning og kvartalsvise endringer";',
        'CONTENTS[en]="Population and changes during the quarter";',
        'TITLE="Befolkning og kvartalsvise endringer, etter region, statistikkvariabel og kvartal";',
        f'TITLE[en]="{doc["label"]}";',
        'UNITS="personer";',
        'UNITS[en]="persons";',
        'STUB="region","statistikkvariabel";',
        'STUB[en]="region","contents";',
        'HEADING="kvartal";',
        'HEADING[en]="quarter";',
        'CONTVARIABLE="statistikkvariabel";',
        'CONTVARIABLE[en]="contents";',
        f"VALUES(\"region\")={q(reg_no)};",
        f"VALUES[en](\"region\")={q([reg_en[r] for r in regions])};",
        f"VALUES(\"statistikkvariabel\")={q(con_no)};",
        f"VALUES[en](\"contents\")={q([con_en[c] for c in contents])};",
        f"VALUES(\"kvartal\")={q(quarters, 5)};",
        f"TIMEVAL(\"kvartal\")=TLIST(Q1),{q([x[:4] + x[5] for x in quarters], 5)};",
        f"CODES(\"region\")={q(regions)};",
        f"CODES(\"statistikkvariabel\")={q(contents)};",
        f"CODES(\"kvartal\")={q(quarters, 5)};",
        'VARIABLE-CODE("region")="Region";',
        'VARIABLE-CODE("statistikkvariabel")="ContentsCode";',
        'VARIABLE-CODE("kvartal")="Tid";',
        'ELIMINATION("region")=YES;',
        'ELIMINATION("statistikkvariabel")=NO;',
    ]
    for c in con_no:
        lines.append(f'UNITS("{c}")="personer";')
        lines.append(f'LAST-UPDATED("{c}")="20161216 14:29";')
    lines += [
        'SOURCE="Statistisk sentralbyrå";',
        'NOTE="Tall for Harstad (-2012) er ikke publisert etter sammenslåingen med Bjarkøy i 2013; "',
        '"cellene er merket med «.» (ikke mulig å oppgi tall).";',
        'NOTE[en]="Harstad (-2012) is not published after the merger with Bjarkøy in 2013.";',
        'VALUENOTE("region","Harstad (-2012)")="Kommunen ble slått sammen med Bjarkøy 1.1.2013.";',
        "DATA=",
        *rows[:-1],
        rows[-1] + ";",
    ]
    return ("\n".join(lines) + "\n").encode("iso-8859-1")


def parse_seed_000() -> tuple[list[str], list[str], list[list[str]]]:
    """(citizenship labels, region labels, cell texts) of seed 000's printed table."""
    text = (SHARED / "seeds" / "000_bde9bdc2cd03acc2.txt").read_text("utf-8")
    regions: list[str] = []
    rows: list[str] = []
    cells: list[list[str]] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 9:
            continue
        if parts[0] == "" and parts[1] == "Total":
            regions = parts[1:]
            continue
        if parts[0] == "Citizenship":
            continue
        rows.append(parts[0].strip())
        cells.append([p.strip() for p in parts[1:]])
    return rows, regions, cells


def make_emigration() -> bytes:
    rows, regions, cells = parse_seed_000()
    data = []
    for row in cells:
        out = []
        for c in row:
            if c in ("-", "."):
                out.append(f'"{c}"')
            else:
                out.append(c.replace(" ", "").replace("\u00a0", ""))
        data.append("\t".join(out))
    lines = [
        'CHARSET="ANSI";',
        'AXIS-VERSION="2013";',
        'CODEPAGE="utf-8";',
        'DECIMALS=0;',
        'MATRIX="emigration_2011";',
        'SUBJECT-AREA="Population";',
        'SUBJECT-CODE="be";',
        'CONTENTS="Emigration";',
        'TITLE="12 Emigration, by citizenship and region. 2011";',
        'UNITS="persons";',
        'STUB="citizenship";',
        'HEADING="region";',
        f'VALUES("citizenship")={q(rows, 3)};',
        f'VALUES("region")={q(regions)};',
        'SOURCE="Statistics Norway";',
        'NOTE="Region: the county the emigrant moved from.";',
        "DATA=",
        *data[:-1],
        data[-1] + ";",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def main() -> None:
    (HERE / "01222_five_regions.px").write_bytes(make_01222())
    (HERE / "emigration_2011.px").write_bytes(make_emigration())


if __name__ == "__main__":
    main()
