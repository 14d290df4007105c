"""Where a learned decision boundary lies: the numbers behind the toy figures.

The boundary of a two-logit classifier is the zero level set of the logit difference
f(x, y) = o_1 - o_0 (softmax probability 1/2). It is located on a square grid of spacing h:
on every grid edge (horizontal and vertical) where f changes sign, the crossing is placed by
linear interpolation between the two nodes. For a boundary that is a straight line inside a
cell the interpolation is exact; in general the crossing is off by O(h²) along the edge, and the
crossings lie at most about h apart along the curve, so a distance from a point to the nearest
crossing over-estimates the distance to the curve by at most about h / 2.

Two numbers per model:

* the smallest Euclidean distance from a training point to the boundary (overall and per class):
  the margin the model actually leaves (0.9 is the best any boundary can do on the
  line-segment sets);
* the offset from the reference boundary y_ref(x): for each grid column x in the data's
  x-range, the vertical distance from y_ref(x) to the nearest crossing on that column,
  averaged over the columns; columns with no crossing in the window are left out and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .toy_data import X_RANGE, ToyData

__all__ = [
    "Window",
    "WINDOW",
    "Grid",
    "evaluate_grid",
    "edge_crossings",
    "BoundaryStats",
    "boundary_stats",
]


@dataclass(frozen=True)
class Window:
    """The plotted and measured rectangle, and the grid spacing h."""

    x: tuple[float, float] = (-4.0, 4.0)
    y: tuple[float, float] = (-3.0, 3.0)
    step: float = 0.01

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        nx = round((self.x[1] - self.x[0]) / self.step) + 1
        ny = round((self.y[1] - self.y[0]) / self.step) + 1
        return np.linspace(*self.x, nx), np.linspace(*self.y, ny)


WINDOW = Window()


@dataclass(frozen=True)
class Grid:
    """f on a grid: ``values[i, j]`` = f(xs[j], ys[i])."""

    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray


def evaluate_grid(f: Callable[[np.ndarray], np.ndarray], window: Window = WINDOW) -> Grid:
    """f, a function of (M, 2) points returning (M,) values, on every node of ``window``."""
    xs, ys = window.axes()
    gx, gy = np.meshgrid(xs, ys)
    values = np.asarray(f(np.column_stack([gx.ravel(), gy.ravel()])), dtype=float).reshape(gx.shape)
    if not np.all(np.isfinite(values)):
        raise ValueError("the logit difference is not finite on the whole grid")
    return Grid(xs, ys, values)


def _crossings_along(values: np.ndarray, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sign changes of ``values`` along axis 0 (nodes at ``coords``): (edge index along axis 1,
    interpolated coordinate). A node where f == 0 counts as the crossing itself."""
    below = values < 0
    i, j = np.nonzero(below[:-1] != below[1:])
    fa, fb = values[i, j], values[i + 1, j]
    t = fa / (fa - fb)  # fa, fb have different signs (or fa == 0), so fa != fb
    return j, coords[i] + t * (coords[i + 1] - coords[i])


def edge_crossings(grid: Grid) -> np.ndarray:
    """(M, 2) points of the zero level set found on vertical and horizontal grid edges."""
    col, y = _crossings_along(grid.values, grid.ys)
    row, x = _crossings_along(grid.values.T, grid.xs)
    return np.vstack([np.column_stack([grid.xs[col], y]), np.column_stack([x, grid.ys[row]])])


@dataclass(frozen=True)
class BoundaryStats:
    """Where one model's boundary lies (see the module docstring).

    Attributes:
      min_distance: smallest distance from any training point to the boundary.
      min_distance_class: the same for class 0 and class 1 separately.
      offset: mean over columns of |nearest crossing - y_ref(x)|.
      coverage: fraction of columns in the data's x-range that had a crossing.
      misclassified: training points on the wrong side (f <= 0 for class 1, f >= 0 for class 0).
    """

    min_distance: float
    min_distance_class: tuple[float, float]
    offset: float
    coverage: float
    misclassified: int


def boundary_stats(
    f: Callable[[np.ndarray], np.ndarray], data: ToyData, window: Window = WINDOW
) -> BoundaryStats:
    """The :class:`BoundaryStats` of the classifier with logit difference ``f`` on ``data``.

    Raises:
      ValueError: if f has no zero crossing in the window (no boundary to measure).
    """
    grid = evaluate_grid(f, window)
    crossings = edge_crossings(grid)
    if len(crossings) == 0:
        raise ValueError("the classifier has no decision boundary inside the measurement window")
    distances, _ = cKDTree(crossings).query(data.points)
    per_class = tuple(float(distances[data.labels == c].min()) for c in (0, 1))
    col, y = _crossings_along(grid.values, grid.ys)
    in_range = (grid.xs >= X_RANGE[0] - 1e-12) & (grid.xs <= X_RANGE[1] + 1e-12)
    gaps = np.full(len(grid.xs), np.inf)
    np.minimum.at(gaps, col, np.abs(y - data.reference(grid.xs[col])))
    covered = in_range & np.isfinite(gaps)
    offset = float(gaps[covered].mean()) if covered.any() else float("inf")
    signs = np.where(data.labels == 1, 1.0, -1.0) * np.asarray(f(data.points), dtype=float)
    coverage = float(covered.sum() / in_range.sum())
    return BoundaryStats(
        float(distances.min()), per_class, offset, coverage, int((signs <= 0).sum())
    )
