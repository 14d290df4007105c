"""docs/lessons/lesson_checks.py names the kind of mistake and never shows the expected value.

tests/test_lessons.py feeds every exercise's typical wrong answers to its check inside the
notebooks; this file tests the checks module on its own, fast and without a kernel, with the
lessons' kinds of answers: the other root, a float, the wrong sign, a string, a printed formula.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sympy as sp

from msanalysis import paper, symbolic
from msanalysis.symbolic import ETA, XI

_PATH = Path(__file__).resolve().parents[1] / "docs" / "lessons" / "lesson_checks.py"
_SPEC = importlib.util.spec_from_file_location("lesson_checks", _PATH)
checks = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(checks)

ROOT = (1 + sp.sqrt(3)) / 4  # eq. 7's stationary point at η = 2
OTHER_ROOT = (1 - sp.sqrt(3)) / 4
GRAD = symbolic.grad_xi("ms")
CHECKS = ["more-steps-no-better", "sweep-reaches-zero"]  # names of audit checks
PRINTED = [(paper.PRINTED["eq. 8"], "this is the printed eq. 8, not the derivative")]

WRONG = [
    # (check, wrong answer, expected, keyword arguments, fragment the message must contain)
    (checks.exact, OTHER_ROOT, ROOT, {"interval": (0, 1)}, "not in (0, 1)"),
    (
        checks.exact,
        OTHER_ROOT,
        ROOT,
        {"mistakes": [(OTHER_ROOT, "not in (0, 1): you kept the negative root")]},
        "you kept the negative root",
    ),
    (checks.exact, float(ROOT), ROOT, {}, "not a float"),
    (checks.exact, sp.Float(0.5), sp.Rational(1, 2), {}, "not a float"),
    (checks.exact, -ROOT, ROOT, {}, "right magnitude, wrong sign"),
    (checks.exact, "(1 + sqrt(3))/4", ROOT, {}, "got a string"),
    (checks.exact, [ROOT], ROOT, {}, "got a list"),
    (checks.exact, paper.PRINTED["eq. 8"], GRAD, {"mistakes": PRINTED}, "printed eq. 8"),
    (checks.exact, -GRAD, GRAD, {}, "wrong sign"),
    (checks.exact, 3 * GRAD, GRAD, {}, "constant factor"),
    (checks.exact, GRAD + 1, GRAD, {}, "additive constant"),
    (checks.exact, GRAD.subs(ETA, 2), GRAD, {}, "depends on eta"),
    (checks.exact, ROOT + XI, ROOT, {}, "contains xi"),
    (checks.exact, sp.Rational(1, 3), ROOT, {}, "not what msanalysis derives"),
    (checks.approx, -0.6074837, 0.6074837, {"tol": 1e-6}, "wrong sign"),
    (checks.approx, "0.6", 0.6074837, {"tol": 1e-6}, "expected a number, got a string"),
    (checks.approx, 0.6, 0.6074837, {"tol": 1e-6}, "too small"),
    (checks.approx, 1.6, 0.6074837, {"tol": 1e-6, "interval": (0, 1)}, "not in (0, 1)"),
    (checks.approx, None, 0.6074837, {"tol": 1e-6}, "got a NoneType"),
    (checks.approx, True, 0.6074837, {"tol": 1e-6}, "got a bool"),
    (checks.approx, float("nan"), 0.6074837, {"tol": 1e-6}, "NaN"),
    (checks.approx, ETA, 0.6074837, {"tol": 1e-6}, "free symbols"),
    (checks.boolean, "yes", True, {"what": "survives", "hint": "compare"}, "True or False"),
    (checks.boolean, False, True, {"what": "survives", "hint": "compare"}, "wrong way round"),
    (checks.names, "sweep-reaches-zero", CHECKS, {"what": "failed"}, "expected a list"),
    (checks.names, CHECKS[::-1], CHECKS, {"what": "failed"}, "sort the list"),
    (checks.names, CHECKS[:1], CHECKS, {"what": "failed"}, "1 missing"),
    (checks.names, [1], CHECKS, {"what": "failed"}, "must be a string"),
]


@pytest.mark.parametrize(("check", "answer", "expected", "kwargs", "fragment"), WRONG)
def test_a_wrong_answer_is_named_not_answered(check, answer, expected, kwargs, fragment) -> None:
    with pytest.raises(checks.WrongAnswer) as caught:
        check(answer, expected, **kwargs)
    message = str(caught.value)
    assert fragment in message, message
    assert not checks.reveals(message, expected), message
    assert isinstance(caught.value, AssertionError)  # what the notebooks' tests rely on


RIGHT = [
    (checks.exact, (sp.sqrt(3) + 1) / 4, ROOT, {"interval": (0, 1), "mistakes": PRINTED}),
    (checks.exact, -1 / XI + 2 * ETA * (2 * XI - 1), GRAD, {"mistakes": PRINTED}),
    (checks.exact, 1, sp.Integer(1), {}),
    # a listed mistake that equals the expected value is not reported as a mistake
    (checks.approx, 0.5, 0.5, {"tol": 1e-9, "mistakes": [(0.5, "the clean gain")]}),
    (checks.approx, sp.Rational(1, 2), 0.5, {"tol": 1e-9}),
    (checks.boolean, True, True, {"what": "survives", "hint": "compare"}),
    (checks.names, CHECKS, CHECKS, {"what": "failed"}),
]


@pytest.mark.parametrize(("check", "answer", "expected", "kwargs"), RIGHT)
def test_the_right_answer_passes(check, answer, expected, kwargs) -> None:
    check(answer, expected, **kwargs)  # raises WrongAnswer otherwise


def test_scaled_names_a_wrong_scale_and_a_wrong_sign() -> None:
    right = [sp.Rational(2, 3), sp.Rational(2, 3), -1]
    hint = "scale it"
    with pytest.raises(checks.WrongAnswer, match="right direction, wrong scale; scale it"):
        checks.scaled([1, 1, sp.Rational(-3, 2)], right, what="(w, b)", hint=hint)
    with pytest.raises(checks.WrongAnswer, match="right magnitude, wrong sign"):
        checks.scaled([-v for v in right], right, what="(w, b)", hint=hint)
    checks.scaled(right, right, what="(w, b)", hint=hint)  # the right one passes
    checks.scaled([0.6667, 0.6667, -1.0], right, what="(w, b)", hint=hint)  # floats: exact()'s job


def test_reveals_finds_the_expected_value_in_a_message() -> None:
    # The old checks printed "0.6 is not 0.6074836950975404": reveals() must catch that.
    assert checks.reveals("0.6 is not 0.6074836950975404", 0.6074836950975404)
    assert checks.reveals("expected 0.6075", 0.6074836950975404)
    assert checks.reveals("ξ* = 1/4 + sqrt(3)/4", ROOT)
    assert checks.reveals("missing name-b", ["name-a", "name-b"])
    assert not checks.reveals("not in (0, 1)", sp.Integer(1))  # too short to say anything


def test_answered_and_correct_print_the_lines_the_notebook_tests_read(capsys) -> None:
    assert not checks.answered(3, ...)
    assert checks.answered(3, 0.5)
    checks.correct(3)
    assert capsys.readouterr().out.splitlines() == [
        "Exercise 3: not answered yet; replace ... above and re-run",
        "Exercise 3: correct",
    ]


def test_unpack_says_what_shape_it_wants() -> None:
    with pytest.raises(checks.WrongAnswer, match=r"expected a tuple \(gain, survives\), got a"):
        checks.unpack(0.1, 2, shape="(gain, survives)")
    assert checks.unpack((1, 2), 2, shape="(a, b)") == (1, 2)
