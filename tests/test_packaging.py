"""The installed package, as a new user meets it: `pip install .` into a fresh venv, no extras.

Builds the wheel, installs it outside the checkout and runs the commands the README shows
from another folder; the counts must equal those of the source tree's own audit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "migaudit"


def test_every_package_folder_is_in_the_wheel_config():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(cfg["packages"])
    folders = {".".join(p.relative_to(SRC.parent).parts) for p in SRC.rglob("*")
               if p.is_dir() and p.name != "__pycache__" and any(p.iterdir())}
    assert folders - listed == set(), "add these packages to [tool.setuptools].packages in pyproject.toml"
    assert cfg["package-dir"]["migaudit.expectations"] == "expectations"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (with its dependencies, without extras)."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next((tmp / "dist").glob("migaudit-*.whl"))
    venv.create(tmp / "venv", with_pip=True)
    bin_dir = tmp / "venv" / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   capture_output=True, env=clean_env(), cwd=tmp)
    assert (bin_dir / "migaudit").exists()
    return bin_dir


def clean_env() -> dict[str, str]:
    """The environment without the checkout on the path: what a new user's shell has."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=cwd, env=clean_env(), capture_output=True,
                          text=True, timeout=600)


def test_installed_audit_matches_the_source_tree(installed, tmp_path):
    from migaudit import audit

    got = run(installed, "migaudit", "audit", "--format", "json", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    assert "site-packages" in doc["tables"][0]["source"], "audited the installed copy"
    assert doc["summary"] == audit().to_dict()["summary"]
    assert doc["summary"]["tables"] >= 17 and doc["summary"]["errors"] == 0


def test_installed_python_api_and_reports(installed, tmp_path):
    code = ("import json, migaudit; r = migaudit.audit(); "
            "print(json.dumps({'ok': r.ok, 'summary': r.to_dict()['summary']}))")
    api = run(installed, "python", "-c", code, cwd=tmp_path)
    assert api.returncode == 0, api.stderr
    cli = run(installed, "migaudit", "audit", "--format", "json", cwd=tmp_path)
    assert json.loads(api.stdout) == {"ok": True, "summary": json.loads(cli.stdout)["summary"]}

    html = run(installed, "migaudit", "audit", "--format", "html", "-o", "reports/audit.html", cwd=tmp_path)
    assert html.returncode == 0, html.stderr
    assert (tmp_path / "reports" / "audit.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")

    release = installed.parent / "lib"
    table = next(release.rglob("example_release/001_*.txt"))
    sug = run(installed, "migaudit", "suggest", str(table), "-o", "rules/table11.yaml", cwd=tmp_path)
    assert sug.returncode == 0, sug.stderr
    again = run(installed, "migaudit", "audit", str(table), "--rules", "rules/", "--format", "json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    suggested = {line.split(":", 1)[1].strip() for line in
                 (tmp_path / "rules" / "table11.yaml").read_text(encoding="utf-8").splitlines()
                 if line.startswith("- id:")}
    applied = {r["id"] for r in json.loads(again.stdout)["rules"]}
    assert {"suggested_citizenship_subtotals", "suggested_region_total"} <= suggested <= applied


@pytest.mark.parametrize(("args", "extra"), [
    (("migaudit", "audit", "--backend", "pandera"), "pandera"),
    (("migaudit", "audit", "--backend", "gx"), "gx"),
    (("migaudit", "export", "gx"), "gx"),
    (("python", "-c", "import migaudit.backends.testing"), "testing"),
    (("python", "-c", "import migaudit.backends.pandera"), "pandera"),
])
def test_missing_extra_names_it(installed, tmp_path, args, extra):
    got = run(installed, *args, cwd=tmp_path)
    assert got.returncode != 0
    assert f"pip install 'migaudit[{extra}]'" in got.stderr
    if args[0] == "migaudit":
        assert got.returncode == 2 and "Traceback" not in got.stderr
        assert len(got.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir()), "nothing written"
