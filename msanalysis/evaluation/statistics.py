"""The noise of a robust-accuracy comparison: binomial intervals, paired margins, seed intervals.

Three levels, each answering another question:

- one cell (a model, an attack): how sure is its accuracy, given n test images?
  :func:`binomial_interval` (Clopper-Pearson, exact).
- two losses, one training seed, the same test images: is the gap larger than the test
  sample's noise? :func:`~msanalysis.attacks.evaluate.paired_noise_margin` on per-sample
  correctness (this ignores the training seed's noise).
- two losses over several training seeds: is the mean gap larger than the seed-to-seed
  spread? :func:`seed_interval` (Student's t over the per-seed paired differences).

A difference counts as a finding only when the interval of the level that includes the most
noise available excludes zero (:func:`verdict_of_difference`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

__all__ = [
    "binomial_interval",
    "SeedInterval",
    "seed_interval",
    "verdict_of_difference",
]


def binomial_interval(correct: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of an accuracy of ``correct`` out of ``n``.

    Args:
      correct: number of test images classified correctly (0 <= correct <= n).
      n: number of test images, >= 1.
      level: confidence level.

    Returns:
      (low, high) as fractions.

    Examples:
      >>> low, high = binomial_interval(50, 100)
      >>> round(low, 4), round(high, 4)
      (0.3983, 0.6017)
    """
    if n < 1 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n and n >= 1; got correct={correct}, n={n}")
    ci = stats.binomtest(correct, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class SeedInterval:
    """Mean, standard deviation and t-interval of a quantity over training seeds."""

    mean: float
    std: float  # sample standard deviation (ddof = 1); nan for one seed
    low: float  # nan for one seed: no interval from a single seed
    high: float
    n: int


def t_quantile(n: int, *, level: float = 0.95) -> float:
    """The two-sided Student's t quantile of a ``level`` interval of a mean of ``n`` values.

    >>> round(t_quantile(2), 3), round(t_quantile(3), 3)
    (12.706, 4.303)
    """
    return float(stats.t.ppf(0.5 + level / 2, df=n - 1))


def seed_interval(values: Sequence[float], *, level: float = 0.95) -> SeedInterval:
    """Student's t interval of the mean of ``values`` (one per training seed).

    Examples:
      >>> s = seed_interval([1.0, 2.0, 3.0])
      >>> s.mean, s.std, round(s.low, 4), round(s.high, 4)
      (2.0, 1.0, -0.4841, 4.4841)
    """
    n = len(values)
    if n == 0:
        raise ValueError("seed_interval needs at least one value")
    mean = math.fsum(values) / n
    if n == 1:
        return SeedInterval(mean, math.nan, math.nan, math.nan, 1)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(n, level=level) * std / math.sqrt(n)
    return SeedInterval(mean, std, mean - half, mean + half, n)


def verdict_of_difference(low: float, high: float) -> str:
    """'higher', 'lower' or 'no difference', from an interval of (B − A).

    An interval that is undefined (nan, one seed) gives 'no difference': nothing is a finding
    without its noise.
    """
    if math.isnan(low) or math.isnan(high):
        return "no difference"
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    return "no difference"
