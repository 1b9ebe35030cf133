"""JUnit XML: each rule on each table is a test case, so CI systems show audit findings as failing tests.

One `<testsuite>` per table (plus `cross-table` for the checks that compare two tables),
one `<testcase classname="migaudit.<table>" name="<rule>">` per rule outcome. Error and
warning findings are `<failure>`s listing the cells; info findings (SSB conventions worth
knowing, not errors) go to `<system-out>` so they never turn a build red; a rule that could
only skip is `<skipped/>`. Suites and test cases with failures come first, and a comment at
the top says the verdict, the counts and the worst findings. Built with ElementTree so every
label is escaped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from migaudit import __version__
from migaudit.engine.dense import Outcome, Violation
from migaudit.report.text import (
    finding_text,
    fmt_imbalance,
    fmt_num,
    fmt_where,
    is_cross_table,
    other_text,
    plural,
    rule_status,
    size_text,
    suspect_text,
    verdict_line,
    worst_findings,
    worst_severity,
)
from migaudit.result import AuditResult

CROSS_SUITE = "cross-table"
#: characters XML 1.0 cannot carry at all (ElementTree would write them and break parsers)
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _violation_line(v: Violation) -> str:
    cell = fmt_where(v.where)
    if v.other:
        cell += f" ≠ {other_text(v)}"
    line = (f"[{v.severity}] {cell}: expected {fmt_num(v.expected)}, actual {fmt_num(v.actual)}, "
            f"imbalance {fmt_imbalance(v.imbalance)}")
    if v.tolerance:
        line += f" (tolerance {fmt_num(v.tolerance)})"
    if v.message:
        line += f"\n    {finding_text(v)}"
    for s in v.suspects:
        line += f"\n    suspect {suspect_text(s, v.table)}"
    return line


def _testcase(o: Outcome, suite: str, max_rows: int) -> tuple[ET.Element, str]:
    """The `<testcase>` of one outcome and its status (passed, failed, info, skipped)."""
    case = ET.Element("testcase", {"classname": f"migaudit.{o.table}", "name": o.rule.id, "time": "0"})
    status = rule_status(o)
    if status == "failed":
        serious = [v for v in o.violations if v.severity in ("error", "warning")]
        n = o.failed or len(serious)
        failure = ET.SubElement(case, "failure", {
            "message": plural(n, "violation"),
            "type": worst_severity(serious) or o.rule.severity,
        })
        lines = [_violation_line(v) for v in serious[:max_rows]]
        if len(serious) > max_rows:
            lines.append(f"… and {fmt_num(len(serious) - max_rows)} more")
        elif o.failed > len(o.violations):
            lines.append(f"… and {fmt_num(o.failed - len(o.violations))} more (not itemised)")
        header = (o.rule.description or o.rule.expression).strip()
        failure.text = "\n".join([header, *lines] if header else lines)
    elif status == "skipped":
        ET.SubElement(case, "skipped", {"message": f"{plural(o.skipped, 'instance')} could not be checked (symbols)"})
    infos = [v for v in o.violations if v.severity == "info"]
    out = []
    if infos:
        out.append(f"{plural(len(infos), 'info finding')}:")
        out += [_violation_line(v) for v in infos[:max_rows]]
        if len(infos) > max_rows:
            out.append(f"… and {fmt_num(len(infos) - max_rows)} more")
    if o.skipped and status != "skipped":
        out.append(f"{plural(o.skipped, 'instance')} skipped (symbols), {fmt_num(o.checked)} checked")
    if out:
        ET.SubElement(case, "system-out").text = "\n".join(out)
    return case, status


def render(result: AuditResult, max_rows: int = 200, **_: object) -> str:
    """The JUnit XML document (UTF-8, with XML declaration) for `result`.

    Suites with failures come first, and failing test cases first within a suite; a comment
    at the top carries the verdict, the counts and the worst findings for a reader of the file.
    """
    suites: dict[str, list[Outcome]] = {t.id: [] for t in result.tables}
    for o in result.outcomes:
        suites.setdefault(CROSS_SUITE if is_cross_table(o) else o.table, []).append(o)
    order = {"failed": 0, "skipped": 1, "info": 2, "passed": 3}
    tables = {t.id: t for t in result.tables}
    root = ET.Element("testsuites", {"name": "migaudit"})
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    built = []
    for name, outcomes in suites.items():
        if name == CROSS_SUITE and not outcomes:
            continue
        suite = ET.Element("testsuite", {"name": name})
        table = tables.get(name)
        if table is not None:
            props = ET.SubElement(suite, "properties")
            for key, value in (("title", table.title), ("source", table.source), ("cells", str(table.size)),
                               ("family", result.families.get(name) or "")):
                if value:
                    ET.SubElement(props, "property", {"name": key, "value": value})
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        cases = [_testcase(o, name, max_rows) for o in outcomes]
        for case, status in sorted(cases, key=lambda c: order[c[1]]):
            suite.append(case)
            counts["tests"] += 1
            counts["failures"] += status == "failed"
            counts["skipped"] += status == "skipped"
        if table is not None and table.notes:
            ET.SubElement(suite, "system-out").text = "reader notes:\n" + "\n".join(table.notes)
        suite.attrib.update({k: str(v) for k, v in counts.items()})
        suite.attrib.update({"errors": "0", "time": "0"})
        for k in totals:
            totals[k] += counts[k]
        built.append((counts["failures"] == 0, len(built), suite))
    if result.not_applied:
        suite = ET.Element("testsuite", {"name": "not-applied", "tests": str(len(result.not_applied)),
                                         "failures": "0", "skipped": str(len(result.not_applied)),
                                         "errors": "0", "time": "0"})
        for n in result.not_applied:
            case = ET.SubElement(suite, "testcase", {"classname": "migaudit.not-applied", "name": n.rule,
                                                    "time": "0"})
            ET.SubElement(case, "skipped", {"message": f"not applied: {n.why}"})
        totals["tests"] += len(result.not_applied)
        totals["skipped"] += len(result.not_applied)
        built.append((True, len(built), suite))
    for _, _, suite in sorted(built, key=lambda b: b[:2]):
        root.append(suite)
    root.attrib.update({k: str(v) for k, v in totals.items()})
    root.attrib.update({"errors": "0", "time": "0"})
    ET.indent(root)
    body = _INVALID.sub("\ufffd", ET.tostring(root, encoding="unicode"))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{_summary_comment(result)}\n{body}\n'


def _summary_comment(result: AuditResult) -> str:
    """`<!-- migaudit: FAILED: 1 error, … -->` for whoever opens the file: verdict, counts, worst findings."""
    lines = [f"migaudit {__version__}: {verdict_line(result)}", size_text(result)]
    lines += [f"{v.severity} {v.rule} in {v.table}: {fmt_where(v.where)}, imbalance {fmt_imbalance(v.imbalance)}"
              for v in worst_findings(result)]
    lines += [f"accepted {v.rule} in {v.table}: {fmt_where(v.where)}: {v.accepted}"
              for v in result.violation_list if v.accepted][:5]
    lines += [f"warning: {w}" for w in result.warnings]
    text = _INVALID.sub("\ufffd", "\n     ".join(lines))
    while "--" in text:  # a comment cannot hold "--"
        text = text.replace("--", "- -")
    return f"<!-- {text.rstrip('-')} -->"
