"""Every command and code block in README.md and docs/*.md runs as written.

Blocks are run by their language, in a sandbox folder where the names the docs use exist:
`release/` (a copy of the bundled example release), `release-2024/table11.txt` and
`release-2025/` (last year's trusted table, this year's release), `release-poland/` (the
example release with Poland × Western Norway in table 11 changed from 2 330 to 2 430).

- `sh`: each line is a command (`.venv/bin/` is this test's interpreter's folder); it must
  exit 0 unless the line's comment says `exit N`. `pip install` lines are not run: the
  extras they name must exist in pyproject.toml.
- `python`: the blocks of one document run in order in one namespace.
- `yaml`: must parse; `file=NAME` in the info string writes it into the sandbox; a rule file
  must load; a CI workflow's `migaudit` steps are run like `sh` lines.
- `json`: must parse.
- `text cmd="…"`: the command's output must contain every line of the block (spacing aside).
- Blocks without a language, `text` without `cmd`, `xml`: illustrations, not run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from migaudit.resources import example_release

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.M | re.S)
RUNNABLE = {"sh", "bash", "console", "python", "yaml", "json"}


def blocks(doc: Path) -> list[tuple[int, str, dict[str, str], str]]:
    """(line, language, attributes, body) of every fenced block."""
    text = doc.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        words = shlex.split(m.group(1).strip()) if m.group(1).strip() else []
        lang = words[0] if words else ""
        attrs = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        out.append((text.count("\n", 0, m.start()) + 1, lang, attrs, m.group(2)))
    return out


def test_every_doc_has_runnable_blocks_or_says_why():
    """The docs are not all illustration: most carry something a test runs."""
    counts = {doc.name: sum(1 for _, lang, attrs, _ in blocks(doc) if lang in RUNNABLE or "cmd" in attrs)
              for doc in DOCS}
    assert counts["README.md"] >= 8
    assert sum(1 for c in counts.values() if c) >= len(DOCS) - 2, counts


def test_readme_opens_with_the_two_make_commands():
    first = blocks(ROOT / "README.md")[0]
    assert first[0] < 8 and re.findall(r"^make (\w+)", first[3], re.M) == ["demo", "test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:.*\n\t.*migaudit audit$", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.fixture()
def sandbox(tmp_path: Path) -> Path:
    release = example_release()
    shutil.copytree(release, tmp_path / "release")
    shutil.copytree(release, tmp_path / "release-2025")
    (tmp_path / "release-2024").mkdir()
    t11 = "001_immigration_by_citizenship_and_region_2011.txt"
    shutil.copy(release / t11, tmp_path / "release-2024" / "table11.txt")
    shutil.copytree(release, tmp_path / "release-poland")
    f = tmp_path / "release-poland" / t11
    lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(n for n, line in enumerate(lines) if line.startswith("Poland"))
    lines[i] = lines[i].replace("\t2 330\t", "\t2 430\t")
    f.write_text("".join(lines), encoding="utf-8")
    return tmp_path


def run_line(line: str, cwd: Path, where: str) -> subprocess.CompletedProcess:
    command, _, comment = line.partition(" #")
    want = int(m.group(1)) if (m := re.search(r"exit (\d)", comment)) else 0
    command = command.replace(".venv/bin/", f"{BIN}/")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "GITHUB_STEP_SUMMARY": str(cwd / "summary.md"), "COLUMNS": "200"}
    got = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert got.returncode == want, f"{where}: `{command}` exited {got.returncode}:\n{got.stderr[-2000:]}"
    return got


def check_pip(line: str, where: str) -> None:
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
                 ["project"]["optional-dependencies"])
    for named in re.findall(r"\[([\w,]+)\]", line):
        assert set(named.split(",")) <= extras, f"{where}: no extra {named!r} in pyproject.toml"


def sh_lines(body: str) -> list[str]:
    return [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("#")]


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_doc_blocks_run(doc: Path, sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migaudit.rules.ruleset import load_rule_file

    monkeypatch.chdir(sandbox)
    namespace: dict = {"__name__": "__doc__"}
    for line_no, lang, attrs, body in blocks(doc):
        where = f"{doc.name}:{line_no}"
        if lang in ("sh", "bash", "console"):
            for line in sh_lines(body):
                if line.startswith(("pip ", "python -m pip ")):
                    check_pip(line, where)
                else:
                    run_line(line, sandbox, where)
        elif lang == "python":
            exec(compile(body, where, "exec"), namespace)  # noqa: S102 - the doc's own example
        elif lang == "yaml":
            doc_yaml = yaml.safe_load(body)
            if "file" in attrs:
                target = sandbox / attrs["file"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(body, encoding="utf-8")
            if isinstance(doc_yaml, dict) and "rules" in doc_yaml:
                path = sandbox / attrs.get("file", "_rules_from_doc.yaml")
                path.write_text(body, encoding="utf-8")
                assert len(load_rule_file(path)) == len(doc_yaml["rules"]), where
            if isinstance(doc_yaml, dict) and "jobs" in doc_yaml:
                for job in doc_yaml["jobs"].values():
                    for step in job.get("steps", []):
                        if str(step.get("run", "")).startswith("migaudit"):
                            cmd = step["run"].replace("data/release", "release/")
                            run_line(cmd, sandbox, where)
        elif lang == "json":
            import json

            json.loads(body)
        elif lang == "text" and "cmd" in attrs:
            out = " ".join(_run_any(attrs["cmd"], sandbox).split())
            for line in body.splitlines():
                if line.strip():
                    assert " ".join(line.split()) in out, f"{where}: output lacks {line.strip()!r}"


def _run_any(command: str, cwd: Path) -> str:
    """A command whose output a doc shows (a finding: exit code 1 is expected)."""
    command = command.replace(".venv/bin/", f"{BIN}/")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "200"}
    got = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert got.returncode in (0, 1), got.stderr[-2000:]
    return got.stdout
