"""Write the API reference: docs/api/<module>.md, one autodoc page per public module.

Public modules are every module of the ``msanalysis`` package except the command line
(``msanalysis.cli``, ``msanalysis.commands``, ``msanalysis.__main__``) and names starting with
an underscore. A package's page shows its docstring and links its modules; each module's page
documents its members. ``tests/test_docs.py`` fails when the committed pages differ from what
this script writes. Run from the repository root::

    python docs/make_api_pages.py
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api"
COMMAND_LINE = ("msanalysis.__main__", "msanalysis.cli", "msanalysis.commands")


def is_public(name: str) -> bool:
    """Whether a dotted module name belongs in the API reference."""
    hidden = any(name == c or name.startswith(c + ".") for c in COMMAND_LINE)
    return not hidden and not any(part.startswith("_") for part in name.split("."))


def public_modules() -> list[tuple[str, bool]]:
    """(dotted name, is a package) of every public module, sorted by name."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    package = importlib.import_module("msanalysis")
    found = []
    for info in pkgutil.walk_packages(package.__path__, "msanalysis."):
        if is_public(info.name):
            found.append((info.name, info.ispkg))
    return sorted(found)


def page(name: str, is_package: bool, children: list[str]) -> str:
    """The MyST source of one module's page."""
    lines = [f"# `{name}`", "", "```{eval-rst}", f".. automodule:: {name}"]
    if is_package:  # its members are documented on the pages of the modules that define them
        lines.append("   :no-members:")
    lines += ["```", ""]
    if children:
        lines += ["```{toctree}", ":maxdepth: 1", "", *children, "```", ""]
    return "\n".join(lines)


def pages() -> dict[str, str]:
    """File name under docs/api/ -> content, the index included."""
    modules = public_modules()
    names = [n for n, _ in modules]
    out = {}
    for name, is_package in modules:
        depth = name.count(".") + 1
        children = [n for n in names if n.startswith(name + ".") and n.count(".") + 1 == depth + 1]
        out[f"{name}.md"] = page(name, is_package, children)
    index = [
        "# API reference",
        "",
        "One page per public module, generated from the docstrings (`python "
        "docs/make_api_pages.py` writes these pages; a test fails when they are stale).",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *(n for n in names if n.count(".") == 1),
        "```",
        "",
    ]
    out["index.md"] = "\n".join(index)
    return out


def main() -> int:
    API.mkdir(parents=True, exist_ok=True)
    wanted = pages()
    for stale in set(p.name for p in API.glob("*.md")) - set(wanted):
        (API / stale).unlink()
    for name, text in wanted.items():
        (API / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
