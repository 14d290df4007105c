"""The documentation site: generated pages are current, and the built site has what it must."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _script(name: str):
    """A script of docs/ imported as a module (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_pages_are_current():
    api = _script("make_api_pages")
    committed = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs/api").glob("*.md")}
    assert committed == api.pages(), "docs/api/ is stale: run `python docs/make_api_pages.py`"


def test_every_public_module_has_an_api_page_and_the_command_line_none():
    api = _script("make_api_pages")
    names = [n for n, _ in api.public_modules()]
    for expected in ("msanalysis.losses", "msanalysis.symbolic", "msanalysis.errors"):
        assert expected in names
    assert not any(n.startswith(("msanalysis.cli", "msanalysis.commands")) for n in names)
    for name in names:
        assert (ROOT / "docs/api" / f"{name}.md").is_file(), name


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built with warnings as errors, as CI builds it."""
    for module in ("sphinx", "myst_nb", "furo"):
        pytest.importorskip(module, reason=f"{module} not installed: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("html")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
        + ["-d", str(out / ".doctrees"), str(ROOT / "docs"), str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    return out


@pytest.mark.slow
def test_site_has_the_ledger_table(site):
    page = (site / "findings.html").read_text(encoding="utf-8")
    table = page[page.index("<table") : page.index("</table>")]
    for verdict in ("HOLDS", "HOLDS_WITH_CORRECTION", "FAILS"):
        assert f"<td><p>{verdict}</p></td>" in table


@pytest.mark.slow
def test_site_has_every_figure(site):
    figures = sorted(p.name for p in (ROOT / "figures").glob("*.png"))
    assert figures, "no figures/*.png in the checkout"
    assert [name for name in figures if not (site / "_images" / name).is_file()] == []


@pytest.mark.slow
def test_site_has_an_api_page_per_public_module(site):
    api = _script("make_api_pages")
    missing = [n for n, _ in api.public_modules() if not (site / "api" / f"{n}.html").is_file()]
    assert missing == []
    losses = (site / "api" / "msanalysis.losses.html").read_text(encoding="utf-8")
    assert 'id="msanalysis.losses.two_stationary_ce"' in losses  # autodoc documented members


def test_every_test_file_the_docs_name_exists():
    """Docs that point a reader to tests/test_x.py must not point at a renamed file."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    named = {
        (page.name, m)
        for page in pages
        for m in re.findall(r"\btest_[a-z0-9_]+\.py\b", page.read_text(encoding="utf-8"))
    }
    assert named, "the docs name no test file at all: the pattern is wrong"
    missing = sorted((page, f) for page, f in named if not (ROOT / "tests" / f).is_file())
    assert not missing, missing
