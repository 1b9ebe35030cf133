"""Where the package's own files live: the rule files, their GX suites, the example release.

The rule files have one home, `expectations/` at the repository's top level. A wheel carries
them as the package folder `migaudit/expectations/`; an editable install reads them in place.
Code asks here instead of computing paths from `__file__`, so both routes behave the same.
"""

from __future__ import annotations

from pathlib import Path

from migaudit.errors import RuleError

PACKAGE = Path(__file__).resolve().parent


def rules_dir() -> Path:
    """The shipped rule files: the wheel's copy, else the source tree's `expectations/`."""
    candidates = (PACKAGE / "expectations", PACKAGE.parents[1] / "expectations")
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise RuleError("no rule files found: the installation is incomplete",
                    source=" or ".join(str(c) for c in candidates),
                    expected="the *.yaml rule files shipped with migaudit")


def gx_suites_dir() -> Path:
    """The shipped Great Expectations suites (read-only: `export gx` writes elsewhere)."""
    return rules_dir() / "gx"


def example_release() -> Path:
    """The example SSB release bundled in the package (`migaudit audit` with no path)."""
    return PACKAGE / "data" / "example_release"
