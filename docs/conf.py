"""Sphinx configuration: MyST Markdown pages, autodoc + napoleon, the lessons via myst-nb.

Build: pip install -e '.[docs]' && sphinx-build -W docs docs/_build/html
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # document this checkout's code, installed or not

import msanalysis  # noqa: E402

project = "msanalysis"
author = "msanalysis developers"
copyright = "2026, msanalysis developers"
release = version = msanalysis.__version__

extensions = [
    "myst_nb",  # Markdown (it brings myst-parser) and the lessons' notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "lessons/make_lessons.py"]

# The notebooks are committed without outputs and are not run at build time (the tests run
# them: tests/test_lessons.py).
nb_execution_mode = "off"

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = f"msanalysis {release}"

# The docstrings write absolute values and norms as |w|, which reStructuredText would read as
# substitution references. Outside inline literals and doctest lines, a bar is escaped.
_LITERAL = re.compile(r"(``.*?``|`[^`]*`)")


def _escape_bars(line: str) -> str:
    if line.lstrip().startswith((">>>", "...")):
        return line
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else p.replace("|", r"\|") for i, p in enumerate(parts))


def _docstring_bars(app, what, name, obj, options, lines: list[str]) -> None:
    in_doctest = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        in_doctest = stripped.startswith(">>>") or (in_doctest and stripped != "")
        if not in_doctest:
            lines[i] = _escape_bars(line)


def setup(app):
    app.connect("autodoc-process-docstring", _docstring_bars)
