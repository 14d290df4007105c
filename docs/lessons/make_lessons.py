"""Write the lesson notebooks and their solutions from the jupytext scripts in docs/lessons/src/.

    python docs/lessons/make_lessons.py

Each ``src/NN-name.py`` is a percent script (``# %%`` cells, tags in the cell header). Code or
markdown between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers) is the
teacher's: ``NN-name.ipynb`` drops it, ``solutions/NN-name-solutions.ipynb`` keeps it without the
markers. A code cell that had a solution is tagged ``exercise`` or ``solution``; a ``check``
cell's code is collapsed (``hide-input``, ``source_hidden``); a cell left empty in the student
version is dropped, and so is a cell tagged ``mistakes`` (typical wrong answers for a check,
which tests/test_lessons.py feeds to it). Notebooks are written without outputs, with cell ids
taken from the cell's place in the source, so the build is reproducible (tests/test_lessons.py
checks that the committed notebooks are its output).
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
SOLUTIONS = HERE / "solutions"
BLOCK = re.compile(
    r"^[ \t]*### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*(\n|$)", re.M | re.S
)
MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.M)
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _cell(cell: NotebookNode, cell_id: str, *, solutions: bool) -> NotebookNode | None:
    if "mistakes" in cell.metadata.get("tags", []):
        return None
    has_solution = bool(MARKER.search(cell.source))
    source = (MARKER if solutions else BLOCK).sub("", cell.source).strip("\n")
    if not source:
        return None
    new = (
        nbformat.v4.new_code_cell if cell.cell_type == "code" else nbformat.v4.new_markdown_cell
    )(source)
    tags = list(cell.metadata.get("tags", []))
    if has_solution and cell.cell_type == "code":
        tags.append("solution" if solutions else "exercise")
    if tags:
        new.metadata["tags"] = tags
    if "check" in tags:  # collapsed in JupyterLab, hidden by myst-nb: its code lists mistakes
        new.metadata["tags"].append("hide-input")
        new.metadata["jupyter"] = {"source_hidden": True}
    new.id = cell_id
    return new


def notebook(source: Path, *, solutions: bool) -> NotebookNode:
    """The student (or solutions) notebook of one source script, without outputs."""
    script = jupytext.read(source, fmt="py:percent")
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": KERNEL, "language_info": {"name": "python"}}
    )
    for i, cell in enumerate(script.cells):
        new = _cell(cell, f"{source.stem[:2]}-{i:03d}", solutions=solutions)
        if new is not None:
            nb.cells.append(new)
    nbformat.validate(nb)
    return nb


def notebooks() -> dict[Path, NotebookNode]:
    """Every lesson notebook and its solutions notebook, by the path it is written to."""
    out = {}
    for source in sorted(SOURCES.glob("[0-9][0-9]-*.py")):
        out[HERE / f"{source.stem}.ipynb"] = notebook(source, solutions=False)
        out[SOLUTIONS / f"{source.stem}-solutions.ipynb"] = notebook(source, solutions=True)
    return out


if __name__ == "__main__":
    SOLUTIONS.mkdir(exist_ok=True)
    for path, nb in notebooks().items():
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        print(path.relative_to(HERE.parent.parent))
