"""Package metadata: version, licence, citation, and no path outside the checkout."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import msanalysis
from msanalysis import cli

ROOT = Path(__file__).resolve().parent.parent
_PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # no tomllib on 3.10
VERSION = re.search(r'^version = "([^"]+)"$', _PYPROJECT, re.M).group(1)
# The one absolute path a library module may read: Debian's data packages (the documented
# fallback data root of msanalysis.training.data when no folder is named).
# Debian's data sets; the kernel's processor description (read, not required: accel.machine).
ALLOWED_ABSOLUTE = {"/usr/share/datasets", "/proc/cpuinfo"}
# A POSIX path of two or more components from the root ("/work/x", not "/255" or "/∂").
ABSOLUTE_PATH = re.compile(r"^(/[A-Za-z_.][\w.-]*){2,}/?$")


def test_version_flag_prints_the_package_version():
    out = subprocess.run(
        [sys.executable, "-m", "msanalysis", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert out.stdout.strip() == f"msanalysis {cli.version()}" and not out.stderr
    assert msanalysis.__version__ == VERSION


def test_licence_file_is_the_licence_pyproject_names():
    assert 'license = { text = "MIT" }' in _PYPROJECT
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "msanalysis developers" in text


def test_citation_names_this_version_and_the_paper():
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert "cff-version: 1.2.0" in cff
    assert f"version: {VERSION}\n" in cff
    assert "Multi-stationary point losses for robust model" in cff
    assert "openreview.net/forum?id=" in cff and "2302.09575" in cff


def _string_constants(path: Path) -> list[str]:
    """Whole string literals; the pieces of an f-string ("/s0/clean" in f"{loss}/s0/clean")
    are not paths on their own, so an f-string counts only when it starts with its text."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pieces = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values[1:]
    }
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in pieces
    ]


def test_nothing_in_the_package_or_tests_reads_a_path_outside_the_checkout():
    """Absolute paths in string constants, and the paper's location on the build machine."""
    offenders = []
    for folder in ("msanalysis", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for value in _string_constants(path):
                absolute = ABSOLUTE_PATH.match(value) is not None
                if "shared" + "/paper" in value or (absolute and value not in ALLOWED_ABSOLUTE):
                    offenders.append(f"{path.relative_to(ROOT)}: {value!r}")
    assert offenders == []
