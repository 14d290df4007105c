"""Checks for the lesson exercises: they name the kind of mistake, never the expected value.

A check cell of a lesson reads::

    if checks.answered(1, answer_1):
        checks.exact(answer_1, expected, interval=(0, 1), mistakes=[(other_root, "...")])
        checks.correct(1)

:func:`answered` prints "Exercise N: not answered yet" while the answer is still ``...``;
each comparison raises :class:`WrongAnswer` (an ``AssertionError``) with a message that says
what kind of mistake it sees: a string or a float where an exact number is asked for, a root
outside (0, 1), the right magnitude with the wrong sign, a known wrong formula (the paper's
printed eq. 8, the loss instead of its derivative). Types are checked before values, and no
message ever contains the expected value (tests/test_lessons.py feeds each check typical
wrong answers and asserts both). The expected value travels on the exception
(``WrongAnswer.expected``) for that test only.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import sympy as sp

__all__ = [
    "WrongAnswer",
    "answered",
    "correct",
    "exact",
    "approx",
    "boolean",
    "names",
    "unpack",
    "scaled",
    "reveals",
]

Mistakes = Sequence[tuple[Any, str]]


class WrongAnswer(AssertionError):
    """A wrong answer: ``str(err)`` says what kind of mistake; ``expected`` is not in it."""

    def __init__(self, message: str, expected: Any = None) -> None:
        super().__init__(message)
        self.expected = expected


def answered(number: int, answer: Any) -> bool:
    """False (and says so) while the answer is still the placeholder ``...``."""
    if answer is ...:
        print(f"Exercise {number}: not answered yet; replace ... above and re-run")
        return False
    return True


def correct(number: int) -> None:
    print(f"Exercise {number}: correct")


def _type_name(value: Any) -> str:
    return "a string" if isinstance(value, str) else f"a {type(value).__name__}"


def _is_float(value: Any) -> bool:
    if isinstance(value, float) or (hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0):
        return True
    return isinstance(value, sp.Basic) and value.has(sp.Float)


def _sympify(value: Any, what: str, expected: Any) -> sp.Expr:
    """``value`` as a sympy expression, or a WrongAnswer naming the type it has."""
    if isinstance(value, str):
        raise WrongAnswer(
            f"{what}: expected a number or a sympy expression, got a string; "
            "build it from sympy objects (sp.Rational, sp.sqrt, the symbols XI, ETA)",
            expected=expected,
        )
    if isinstance(value, bool) or not isinstance(value, sp.Basic | numbers.Number):
        raise WrongAnswer(
            f"{what}: expected a number or a sympy expression, got {_type_name(value)}",
            expected=expected,
        )
    return sp.sympify(value)


def _same(a: sp.Expr, b: sp.Expr) -> bool:
    return a == b or sp.simplify(a - b) == 0  # a == b first: oo - oo is nan


def _known(answer: sp.Expr, mistakes: Mistakes, what: str, expected: Any) -> None:
    for value, message in mistakes:
        if _same(answer, sp.sympify(value)) and not _same(answer, expected):
            raise WrongAnswer(f"{what}: {message}", expected=expected)


def _symbols(answer: sp.Expr, expected: sp.Expr, what: str) -> None:
    extra = answer.free_symbols - expected.free_symbols
    if extra:
        names = ", ".join(sorted(str(s) for s in extra))
        raise WrongAnswer(
            f"{what}: your answer contains {names}, which the result does not: substitute "
            "the given values (expr.subs(...))",
            expected=expected,
        )
    missing = expected.free_symbols - answer.free_symbols
    if missing:
        names = ", ".join(sorted(str(s) for s in missing))
        raise WrongAnswer(
            f"{what}: the result depends on {names}, your answer does not", expected=expected
        )


def _interval(value: float, interval: tuple[float, float] | None, what: str, expected: Any):
    if interval is not None and not interval[0] < value < interval[1]:
        raise WrongAnswer(
            f"{what}: not in ({interval[0]}, {interval[1]}), where the exercise says it lies",
            expected=expected,
        )


def _factor(answer: sp.Expr, expected: sp.Expr, what: str) -> None:
    """Name a wrong sign or a wrong factor (constant or not) between answer and expected."""
    if _same(answer, -expected):
        raise WrongAnswer(f"{what}: right magnitude, wrong sign", expected=expected)
    if expected.free_symbols and answer != 0:  # for two numbers a "factor" says nothing
        ratio = sp.simplify(answer / expected)
        if ratio.is_number:
            raise WrongAnswer(f"{what}: off by a constant factor", expected=expected)
        if sp.simplify(answer - expected).is_number:
            raise WrongAnswer(f"{what}: off by an additive constant", expected=expected)


def exact(
    answer: Any,
    expected: Any,
    *,
    what: str = "your answer",
    interval: tuple[float, float] | None = None,
    mistakes: Mistakes = (),
) -> None:
    """An exact number or expression: no floats, the right symbols, then the value.

    Args:
      answer: the student's value.
      expected: what msanalysis derives (a sympy number or expression).
      what: how the message names the answer ("printed_root").
      interval: open interval a number must lie in, e.g. (0, 1) for a probability.
      mistakes: (wrong value, message naming the mistake) pairs, tried before the generic ones.
    """
    value = _sympify(answer, what, expected)
    expected = sp.sympify(expected)
    _known(value, mistakes, what, expected)
    if _is_float(answer) or value.has(sp.Float):
        raise WrongAnswer(
            f"{what}: give an exact number (a sympy Rational or expression), not a float; "
            "e.g. sp.sqrt(2) / 2, not 0.7071",
            expected=expected,
        )
    _symbols(value, expected, what)
    if value.is_number:
        _interval(float(value), interval, what, expected)
    if not _same(value, expected):
        _factor(value, expected, what)
        raise WrongAnswer(f"{what}: not what msanalysis derives; recheck your steps", expected)


def approx(
    answer: Any,
    expected: float,
    *,
    tol: float,
    what: str = "your answer",
    interval: tuple[float, float] | None = None,
    mistakes: Mistakes = (),
) -> None:
    """A float within ``tol`` of ``expected``: a number first, then its range, sign and size."""
    if isinstance(answer, str):
        raise WrongAnswer(f"{what}: expected a number, got a string", expected=expected)
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real | sp.Basic):
        raise WrongAnswer(f"{what}: expected a number, got {_type_name(answer)}", expected)
    if isinstance(answer, sp.Basic) and not answer.is_number:
        raise WrongAnswer(
            f"{what}: expected a number, got an expression with free symbols", expected=expected
        )
    value = float(answer)
    if math.isnan(value):
        raise WrongAnswer(f"{what}: is NaN", expected=expected)
    for wrong, message in mistakes:  # a known mistake that happens to be right is no mistake
        if abs(value - float(wrong)) <= tol < abs(value - expected):
            raise WrongAnswer(f"{what}: {message}", expected=expected)
    _interval(value, interval, what, expected)
    if abs(value - expected) > tol:
        if expected != 0 and abs(value + expected) <= tol:
            raise WrongAnswer(f"{what}: right magnitude, wrong sign", expected=expected)
        side = "too large" if value > expected else "too small"
        raise WrongAnswer(f"{what}: {side}, beyond the tolerance", expected=expected)


def boolean(answer: Any, expected: bool, *, what: str, hint: str) -> None:
    """A True/False answer; ``hint`` says what to compare when it is the wrong way round."""
    if not isinstance(answer, bool):
        raise WrongAnswer(f"{what}: expected True or False, got {_type_name(answer)}", expected)
    if answer != expected:
        raise WrongAnswer(f"{what}: the wrong way round; {hint}", expected=expected)


def names(answer: Any, expected: Sequence[str], *, what: str) -> None:
    """A sorted list of names: types, order, then which are wrong (counted, never named)."""
    if isinstance(answer, str) or not isinstance(answer, list | tuple):
        raise WrongAnswer(f"{what}: expected a list of names, got {_type_name(answer)}", expected)
    if not all(isinstance(name, str) for name in answer):
        raise WrongAnswer(f"{what}: every element must be a string (a check's name)", expected)
    if list(answer) != sorted(answer):
        raise WrongAnswer(f"{what}: sort the list (sorted(...))", expected=expected)
    extra, missing = set(answer) - set(expected), set(expected) - set(answer)
    if extra or missing:
        raise WrongAnswer(
            f"{what}: {len(extra)} listed name(s) are not among them, {len(missing)} missing; "
            "read the `passed` field of each check",
            expected=expected,
        )


def scaled(answer: Sequence[Any], expected: Sequence[Any], *, what: str, hint: str) -> None:
    """Name a vector that is ``expected`` times a factor other than 1 (``hint``: how to scale)."""
    values = [sp.sympify(a) for a in answer if isinstance(a, numbers.Number | sp.Basic)]
    if len(values) != len(expected) or any(
        _is_float(a) or not v.is_number for a, v in zip(answer, values, strict=True)
    ):
        return  # not a vector of exact numbers: exact() says what is wrong with it
    ratios = {sp.nsimplify(sp.simplify(v / e)) for v, e in zip(values, expected, strict=True) if e}
    zeros_match = all(v == 0 for v, e in zip(values, expected, strict=True) if not e)
    if len(ratios) != 1 or not zeros_match or (ratio := ratios.pop()) == 1:
        return
    if ratio == -1:
        raise WrongAnswer(f"{what}: right magnitude, wrong sign", expected=list(expected))
    side = "right direction" if ratio > 0 else "wrong sign"
    raise WrongAnswer(f"{what}: {side}, wrong scale; {hint}", expected=list(expected))


def unpack(answer: Any, size: int, *, shape: str) -> tuple:
    """A tuple of ``size`` elements, or a WrongAnswer saying what ``shape`` should be."""
    if not isinstance(answer, tuple) or len(answer) != size:
        raise WrongAnswer(f"expected a tuple {shape}, got {_type_name(answer)}")
    return answer


def reveals(message: str, expected: Any) -> bool:
    """Whether ``message`` shows ``expected`` (its sympy form, or a float of it to 3+ digits)."""
    if isinstance(expected, list | tuple):
        return any(reveals(message, item) for item in expected)
    if isinstance(expected, bool | None):
        return False  # a yes/no answer: "the wrong way round" says it, by definition
    if isinstance(expected, str):
        return expected in message
    forms = {str(expected)}
    value = sp.sympify(expected)
    if value.is_number:
        number = float(value)
        forms |= {repr(number), f"{number:.3g}", f"{number:.6f}", f"{number:.4f}"}
    # one-character forms ("0", "1") also occur in "(0, 1)": too short to reveal anything
    return any(form in message for form in forms if len(form) > 1)
