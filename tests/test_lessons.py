"""The lessons of docs/lessons/ run top to bottom, and their solutions pass their own checks.

Every notebook (lesson and solutions) is executed with nbclient in a python3 kernel started in
the notebook's folder, with this checkout first on the kernel's PYTHONPATH (pytest puts the
checkout on its own sys.path, but a kernel is a separate process). A lesson with a cell tagged
``parameters`` gets a smaller size injected right after it (``SMALL``), as papermill does.
In a solutions notebook every check must pass, and is then rerun (in an injected cell) on the
typical wrong answers of the ``mistakes`` cell that follows it in docs/lessons/src/NN-name.py
(the other root, a float, the wrong sign, a string, the paper's printed formula) and on one
arbitrary float: each must be rejected by a ``lesson_checks.WrongAnswer`` whose message names
the mistake and does not show the expected value, so no check is vacuous or gives the answer.

The committed notebooks must also be exactly what docs/lessons/make_lessons.py builds from the
jupytext sources (so the student and solution versions share their check cells), without
outputs.
"""

from __future__ import annotations

import json
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
jupytext = pytest.importorskip(
    "jupytext", reason="jupytext is not installed; run pip install -e '.[test]'"
)

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "docs" / "lessons"
NOTEBOOKS = sorted(LESSONS.glob("*.ipynb")) + sorted((LESSONS / "solutions").glob("*.ipynb"))
# Overrides for cells tagged `parameters`: small enough for CI (the numbers then mean little; the
# test checks that the lesson runs and that its solutions pass their checks).
SMALL = {"N_TRAIN": 2000, "EPOCHS": 1, "N_TEST": 64, "N_AUDIT": 32, "ATTACK_STEPS": 2}
SLOW = {"05"}  # lessons that train a network: marked slow


def _param(path: Path):
    marks = [pytest.mark.slow] if path.name[:2] in SLOW else []
    return pytest.param(path, id=str(path.relative_to(LESSONS)), marks=marks)


def _tagged(nb, tag: str) -> list[int]:
    return [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]


def _inject_parameters(nb, overrides: dict) -> None:
    """Insert a cell after each parameters cell overriding the names it defines."""
    for i in reversed(_tagged(nb, "parameters")):
        names = set(re.findall(r"^(\w+)\s*=", nb.cells[i].source, flags=re.M))
        lines = [f"{k} = {v!r}" for k, v in overrides.items() if k in names]
        if lines:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
            cell.metadata["tags"] = ["injected-parameters"]
            nb.cells.insert(i + 1, cell)


WRONG = 0.123456789  # an answer no exercise has


def _mistakes(stem: str) -> dict[str, str]:
    """Exercise number -> source of its ``mistakes`` cell (dropped from the notebooks)."""
    script = jupytext.read(LESSONS / "src" / f"{stem}.py", fmt="py:percent")
    cells = [c.source for c in script.cells if "mistakes" in c.metadata.get("tags", [])]
    return {re.search(r"mistakes_(\d+) =", c).group(1): c for c in cells}


def _inject_wrong_answers(nb, mistakes: dict[str, str]) -> None:
    """After each check, rerun it on typical wrong answers (then restore the right one).

    The cell prints one JSON line: for each wrong answer, the fragment its message must contain,
    the message (or None if accepted), its exception type, and whether it shows the expected
    value. ``WRONG`` (any message) is always among them, so no check is vacuous.
    """
    for i in reversed(_tagged(nb, "check")):
        number = _exercise_number(nb.cells[i])
        source = (
            f"{mistakes.get(number, f'mistakes_{number} = []')}\n"
            f"_right, _report = answer_{number}, []\n"
            f"for answer_{number}, _fragment in [*mistakes_{number}, ({WRONG!r}, '')]:\n"
            "    try:\n"
            f"        exec({nb.cells[i].source!r})\n"
            "    except Exception as err:\n"
            "        _report.append((_fragment, str(err), type(err).__name__,\n"
            "                        checks.reveals(str(err), getattr(err, 'expected', None))))\n"
            "    else:\n"
            "        _report.append((_fragment, None, None, False))\n"
            f"answer_{number} = _right\n"
            "import json; print(json.dumps(_report))"
        )
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = ["injected-wrong-answers"]
        nb.cells.insert(i + 1, cell)


def _exercise_number(cell) -> str:
    return re.search(r"# Check exercise (\d+)", cell.source).group(1)


def _kernel_env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {
        **os.environ,
        "PYTHONPATH": path,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }


def _run(path: Path, overrides: dict, *, wrong_answers: bool):
    nb = nbformat.read(path, as_version=4)
    _inject_parameters(nb, overrides)
    if wrong_answers:
        _inject_wrong_answers(nb, _mistakes(path.stem.removesuffix("-solutions")))
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=_kernel_env(), cwd=str(path.parent))
    return nb


def _stdout(cell) -> str:
    return "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"
    )


def test_there_are_lessons_and_solutions() -> None:
    lessons = sorted(p.stem for p in LESSONS.glob("*.ipynb"))
    solutions = sorted(
        p.stem.removesuffix("-solutions") for p in (LESSONS / "solutions").glob("*.ipynb")
    )
    assert lessons and lessons == solutions


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One checkpoint folder for the module: a solutions notebook reuses its lesson's training."""
    return tmp_path_factory.mktemp("lesson-runs")


@pytest.mark.parametrize("path", [_param(p) for p in NOTEBOOKS])
def test_notebook_runs(path: Path, run_dir: Path) -> None:
    solutions = path.parent.name == "solutions"
    nb = _run(path, {**SMALL, "RUN_DIR": str(run_dir)}, wrong_answers=solutions)
    checks = _tagged(nb, "check")
    assert checks, f"{path.name} has no exercise checks"
    for i in checks:
        printed, number = _stdout(nb.cells[i]), _exercise_number(nb.cells[i])
        # Solutions must pass every check; a lesson's unanswered checks only say so.
        expected = (
            f"Exercise {number}: correct" if solutions else f"Exercise {number}: not answered yet"
        )
        assert expected in printed, f"{path.name}, check of exercise {number} printed {printed!r}"
        if solutions:  # and it diagnoses typical wrong answers without revealing the answer
            for fragment, message, kind, reveals in json.loads(_stdout(nb.cells[i + 1])):
                where = f"{path.name}, exercise {number}, mistake {fragment!r}"
                assert message is not None, f"{where}: accepted"
                assert kind == "WrongAnswer", f"{where}: raised {kind}: {message}"
                assert fragment in message, f"{where}: the message is {message!r}"
                assert not reveals, f"{where}: the message shows the expected value: {message!r}"


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
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: strip outputs"
            )
