"""The lessons of docs/lessons/ run top to bottom, and their solutions pass their own checks.

Every notebook (lesson and solutions) is executed with nbclient in a python3 kernel started in
the notebook's folder, with this checkout first on the kernel's PYTHONPATH (pytest puts the
checkout on its own sys.path, but a kernel is a separate process). A lesson with a cell tagged
``parameters`` gets a smaller size injected right after it (``SMALL``), as papermill does.

The committed notebooks must also be exactly what docs/lessons/make_lessons.py writes (so the
student and solution versions share their check cells), without outputs.
"""

from __future__ import annotations

import os
import re
import runpy
from pathlib import Path

import pytest

nbformat = pytest.importorskip(
    "nbformat", reason="nbformat is not installed; run pip install -e '.[test]'"
)
nbclient = pytest.importorskip(
    "nbclient", reason="nbclient is not installed; run pip install -e '.[test]'"
)
pytest.importorskip("ipykernel", reason="ipykernel is not installed; run pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "docs" / "lessons"
NOTEBOOKS = sorted(LESSONS.glob("*.ipynb")) + sorted((LESSONS / "solutions").glob("*.ipynb"))
# Overrides for cells tagged `parameters`: small enough for CI, large enough to mean something.
SMALL = {"N_TRAIN": 2000, "N_TEST": 300, "EPOCHS": 1}
SLOW = {"05"}  # lessons that train a network: marked slow


def _param(path: Path):
    marks = [pytest.mark.slow] if path.name[:2] in SLOW else []
    return pytest.param(path, id=str(path.relative_to(LESSONS)), marks=marks)


def _tagged(nb, tag: str) -> list[int]:
    return [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]


def _inject_small_parameters(nb) -> None:
    """Insert a cell overriding the parameters cell's sizes (only names it defines)."""
    for i in reversed(_tagged(nb, "parameters")):
        names = set(re.findall(r"^(\w+)\s*=", nb.cells[i].source, flags=re.M))
        lines = [f"{k} = {v!r}" for k, v in SMALL.items() if k in names]
        if lines:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
            cell.metadata["tags"] = ["injected-parameters"]
            nb.cells.insert(i + 1, cell)


def _kernel_env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}


def _run(path: Path):
    nb = nbformat.read(path, as_version=4)
    _inject_small_parameters(nb)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=_kernel_env(), cwd=str(path.parent))
    return nb


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def test_there_are_lessons_and_solutions() -> None:
    lessons = sorted(p.stem for p in LESSONS.glob("*.ipynb"))
    solutions = sorted(p.stem.removesuffix("-solutions") for p in (LESSONS / "solutions").glob("*.ipynb"))
    assert lessons and lessons == solutions


@pytest.mark.parametrize("path", [_param(p) for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    nb = _run(path)
    checks = _tagged(nb, "check")
    assert checks, f"{path.name} has no exercise checks"
    solutions = path.parent.name == "solutions"
    for i in checks:
        printed = _stdout(nb.cells[i])
        number = re.search(r"# Check exercise (\d+)", nb.cells[i].source).group(1)
        # Solutions must pass every check; a lesson's unanswered checks only say so.
        expected = f"Exercise {number}: correct" if solutions else f"Exercise {number}: not answered yet"
        assert expected in printed, f"{path.name}, check of exercise {number} printed {printed!r}"


def test_committed_notebooks_are_the_generators_output() -> None:
    written = runpy.run_path(str(LESSONS / "make_lessons.py"))["notebooks"]()
    assert sorted(written) == NOTEBOOKS, "run python docs/lessons/make_lessons.py"
    for path, nb in written.items():
        assert path.read_text(encoding="utf-8") == nbformat.writes(nb) + "\n", (
            f"{path.name} is stale: run python docs/lessons/make_lessons.py"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(LESSONS)))
def test_committed_notebooks_have_no_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs"
