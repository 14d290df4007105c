"""The toy data sets of Figures 1, 3-9: two classes on curves in the plane, margin 1.8.

Each set also carries its reference boundary y_ref(x), the curve a "centred" boundary should
follow: for the sets on two horizontal segments it is the midline y = 0, the hard-margin
(max-margin) linear boundary (:func:`max_margin_line` re-derives it numerically); for the
curved set, which no line separates, it is the vertical mid-curve between the two classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from ..simulate import max_margin

__all__ = [
    "ToyData",
    "HALF_GAP",
    "X_RANGE",
    "separable",
    "curved",
    "imbalanced",
    "TOY_DATA",
    "max_margin_line",
    "linearly_separable",
]

HALF_GAP = 0.9  # the classes lie 2 * 0.9 = 1.8 apart vertically (Section 3.1)
X_RANGE = (-3.0, 3.0)
WAVE_AMPLITUDE, WAVE_FREQUENCY = (
    1.2,
    1.5,
)  # curved set: the best line misses the mid-curve by ~1.19 > 0.9


@dataclass(frozen=True)
class ToyData:
    """A two-class set in the plane.

    Attributes:
      name: key in :data:`TOY_DATA`.
      title: what the set is, for figure titles.
      points: (N, 2) float64 coordinates (x, y).
      labels: (N,) int64 classes, 0 (below) or 1 (above).
      reference: y_ref(x) of the reference boundary, vectorised over x.
      reference_name: what the reference is.
    """

    name: str
    title: str
    points: np.ndarray
    labels: np.ndarray
    reference: Callable[[np.ndarray], np.ndarray]
    reference_name: str


def _two_curves(
    centre: Callable[[np.ndarray], np.ndarray], n: int, keep_upper: int
) -> tuple[np.ndarray, np.ndarray]:
    """Class 0 on y = centre(x) - 0.9, class 1 on y = centre(x) + 0.9.

    x is evenly spaced on :data:`X_RANGE`; class 1 keeps ``keep_upper`` of its ``n`` points, evenly
    spaced, ends included.
    """
    x = np.linspace(*X_RANGE, n)
    upper = (
        x[np.round(np.linspace(0, n - 1, keep_upper)).astype(int)]
        if keep_upper > 1
        else x[[n // 2]]
    )
    lower_pts = np.column_stack([x, centre(x) - HALF_GAP])
    upper_pts = np.column_stack([upper, centre(upper) + HALF_GAP])
    points = np.vstack([lower_pts, upper_pts])
    labels = np.concatenate([np.zeros(len(lower_pts), np.int64), np.ones(len(upper_pts), np.int64)])
    return points, labels


def _midline(x: np.ndarray) -> np.ndarray:
    return np.zeros_like(np.asarray(x, dtype=float))


def _wave(x: np.ndarray) -> np.ndarray:
    return WAVE_AMPLITUDE * np.sin(WAVE_FREQUENCY * np.asarray(x, dtype=float))


def separable(n: int = 100) -> ToyData:
    """Figure 1's set: two horizontal segments y = ±0.9, x in [-3, 3], ``n`` points each."""
    points, labels = _two_curves(_midline, n, n)
    return ToyData(
        "separable", "line segments, margin 1.8", points, labels, _midline, "max-margin line y = 0"
    )


def curved(n: int = 100) -> ToyData:
    """Figure 3's set: y = 1.2 sin(1.5 x) ± 0.9; no line separates it (see linearly_separable)."""
    points, labels = _two_curves(_wave, n, n)
    return ToyData(
        "curved",
        "waves 1.2 sin(1.5x) ± 0.9 (not linearly separable)",
        points,
        labels,
        _wave,
        "vertical mid-curve y = 1.2 sin(1.5x)",
    )


def imbalanced(lacking: float, n: int = 100) -> ToyData:
    """Figures 4, 6-9: :func:`separable` with the fraction ``lacking`` of class 1 removed
    (the kept points evenly spaced over the segment, both ends kept)."""
    if not 0.0 <= lacking < 1.0:
        raise ValueError(f"lacking={lacking!r}: expected a fraction in [0, 1)")
    keep = max(1, round(n * (1.0 - lacking)))
    points, labels = _two_curves(_midline, n, keep)
    return ToyData(
        f"lacking-{round(100 * lacking)}",
        f"line segments, class 1 lacking {100 * lacking:g} %",
        points,
        labels,
        _midline,
        "max-margin line y = 0",
    )


TOY_DATA: dict[str, Callable[[], ToyData]] = {
    "separable": separable,
    "curved": curved,
    **{f"lacking-{p}": (lambda p=p: imbalanced(p / 100)) for p in (10, 30, 50, 90, 97)},
}


def max_margin_line(points: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """The hard-margin linear SVM (:func:`msanalysis.simulate.max_margin`) of a toy set.

    Used to confirm that the reference line of the separable sets is the max-margin boundary.

    Returns:
      (w, b) with the boundary {x : w·x + b = 0}; margin 1 / |w|.
    """
    svm = max_margin(points, np.where(labels == 1, 1.0, -1.0))
    if svm is None:
        raise ArithmeticError("max-margin problem not solved: the set is not linearly separable")
    return svm.w, svm.b


def linearly_separable(points: np.ndarray, labels: np.ndarray) -> bool:
    """Whether some line has s_i (w·x_i + b) >= 1 for all i (a linear-programming test)."""
    signs = np.where(labels == 1, 1.0, -1.0)
    a_ub = -signs[:, None] * np.column_stack([points, np.ones(len(points))])
    result = linprog(np.zeros(3), A_ub=a_ub, b_ub=-np.ones(len(points)), bounds=[(None, None)] * 3)
    return result.status == 0
