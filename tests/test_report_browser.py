"""The HTML report in a real browser (headless Chromium from the OS packages).

The bundled release with one injected error (Sveio's births in 2015K2, +40, in the
430-municipality table 01222) must show the failing cell within the first screen of the
page's violations section, drawn in its grid, and the page must log no console error.
Layout is measured by a small script added to a copy of the page (the report itself has
no script): it scrolls to the violations section and writes positions into the DOM, which
`chromium --dump-dom` prints. Skips when Chromium is not installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from migaudit.cli import example_release
from migaudit.report import html as html_report
from migaudit.result import AuditResult
from migaudit.runner import run_audit

MUNICIPALITIES = "01222_municipalities_2014K3-2016K3.jsonstat1.json"
VIEWPORT = (1280, 900)


@pytest.fixture(scope="module")
def browser() -> str:
    """The Chromium executable; the browser tests skip (before any audit runs) without one."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium)")


def _run(browser: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-extensions", f"--user-data-dir={cwd / 'profile'}", "--enable-logging=stderr", "--v=0",
           f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd)


def _console_messages(stderr: str) -> list[str]:
    """Messages the page logged (Chromium writes them as `…:CONSOLE…] "message", source: …`)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def one_error(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, tuple[int, ...], str]:
    """The bundled release with Sveio's births in 2015K2 raised by 40 in the municipality table."""
    release = tmp_path_factory.mktemp("release") / "release"
    shutil.copytree(example_release(), release)
    f = release / MUNICIPALITIES
    doc = json.loads(f.read_text(encoding="utf-8"))
    ds = doc[next(iter(doc))]
    dims = ds["dimension"]
    region = list(dims["Region"]["category"]["index"])
    contents = list(dims["ContentsCode"]["category"]["index"])
    time = list(dims["Tid"]["category"]["index"])
    r, t = region.index("1216"), time.index("2015K2")  # 1216 Sveio
    births, excess = contents.index("Fodte2"), contents.index("Fodselsoverskudd4")
    ds["value"][(r * len(contents) + births) * len(time) + t] += 40
    f.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = run_audit([release], [])
    (tid,) = [x.id for x in result.tables if x.source.endswith(MUNICIPALITIES)]
    return result, (r, excess, t), tid


def test_one_injected_error_is_one_error_in_that_table(one_error) -> None:  # noqa: ANN001
    result, _, tid = one_error
    in_table = [v for v in result.violation_list if v.severity == "error" and v.table == tid]
    assert [(v.rule, v.where["Region"], v.where["Tid"], v.imbalance) for v in in_table] == [
        ("excess_of_births", "Sveio", "2015K2", -40)]


PROBE = """<script>
(function () {
  var out = {}, sec = document.getElementById('violations'), cell = document.getElementById('%s');
  out.viewport = [innerWidth, innerHeight];
  out.page_height = document.documentElement.scrollHeight;
  if (sec && cell) {
    window.scrollTo(0, sec.getBoundingClientRect().top + scrollY);
    var s = sec.getBoundingClientRect(), c = cell.getBoundingClientRect();
    out.section_top = s.top; out.cell = [c.left, c.top, c.right, c.bottom];
    var hit = document.elementFromPoint((c.left + c.right) / 2, (c.top + c.bottom) / 2);
    out.hit_is_cell = !!hit && (hit === cell || cell.contains(hit));
    out.background = getComputedStyle(cell).backgroundColor;
    out.text = cell.textContent; out.cls = cell.className;
    out.grid_caption = cell.closest('figure').querySelector('figcaption').textContent;
    var link = document.querySelector('a[href="#%s"]');
    out.link_row = link ? link.closest('tr').id : null;
  }
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script></body>"""


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


def test_failing_cell_in_first_screen_of_violations(browser: str, one_error, tmp_path: Path) -> None:  # noqa: ANN001
    result, idx, tid = one_error
    ti = [t.id for t in result.tables].index(tid)
    anchor = html_report.cell_id(ti, idx)
    page = html_report.render(result)
    assert f'id="{anchor}"' in page
    report = tmp_path / "report.html"
    report.write_text(page, encoding="utf-8")

    # the page as a reader gets it: a screenshot, and nothing on the console
    shot = Path(os.environ.get("MIGAUDIT_SCREENSHOT_DIR", tmp_path)) / "report-one-error.png"
    p = _run(browser, f"--screenshot={shot}", report.as_uri(), cwd=tmp_path)
    assert shot.is_file(), p.stderr[-2000:]
    assert _png_size(shot) == VIEWPORT
    assert _console_messages(p.stderr) == []

    # layout, measured in a copy of the page with a probe script
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE % (anchor, anchor)), encoding="utf-8")
    p = _run(browser, "--dump-dom", probe.as_uri(), cwd=tmp_path)
    assert _console_messages(p.stderr) == []
    m = re.search(r'<pre id="probe">(.*?)</pre>', p.stdout, re.S)
    assert m, p.stderr[-2000:]
    got = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    width, height = got["viewport"]
    assert "cell" in got, got
    left, top, right, bottom = got["cell"]
    # scrolled to the violations section, the failing cell is on that first screen, unhidden
    assert abs(got["section_top"]) < 2
    assert 0 <= top and bottom <= height, got
    assert 0 <= left and right <= width, got
    assert got["hit_is_cell"], "something covers the failing cell"
    # it is the failing cell, marked as such, in the slice of its quarter, linked from its finding
    assert got["text"] == "20" and "fail-error" in got["cls"].split()
    assert got["background"] not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    assert "2015K2" in got["grid_caption"] and "430 rows" in got["grid_caption"]
    assert re.fullmatch(r"v\d+", got["link_row"] or "")
    # the page is short enough to read: the 430-row table is cut to the rows that matter
    assert got["page_height"] < 12 * height


def test_clean_release_page_has_no_console_errors(browser: str, tmp_path: Path) -> None:
    result = run_audit([example_release()], [])
    report = tmp_path / "clean.html"
    report.write_text(html_report.render(result), encoding="utf-8")
    p = _run(browser, "--dump-dom", report.as_uri(), cwd=tmp_path)
    assert "<svg" in p.stdout and 'id="violations"' in p.stdout
    assert _console_messages(p.stderr) == []
