"""bench/bench_verify.py's interval for the median of paired ratios (issue 13's speed bar is
read from it, so it is tested against the binomial coverage it claims)."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_verify.py"
median_interval = runpy.run_path(str(SCRIPT), run_name="bench_verify")["median_interval"]


def _coverage(n: int, k: int) -> float:
    """P(x_(k) <= median <= x_(n+1-k)) = 1 - 2 P(B <= k - 1), B ~ Binomial(n, 1/2)."""
    return 1 - 2 * sum(math.comb(n, i) for i in range(k)) / 2**n


@pytest.mark.parametrize("n", [5, 6, 10, 12, 20, 31])
def test_interval_is_the_narrowest_order_statistics_with_95_percent_coverage(n):
    values = [float(i) for i in range(1, n + 1)]  # x_(i) = i
    low, high = median_interval(values)
    k = int(low)
    assert high == n + 1 - k
    if k > 1 or _coverage(n, 1) >= 0.95:
        assert _coverage(n, k) >= 0.95 > _coverage(n, k + 1)
    else:  # too few values for 95%: the whole range
        assert (low, high) == (1, n)


def test_known_value_for_twenty_pairs():
    assert median_interval([float(i) for i in range(20, 0, -1)]) == (6.0, 15.0)
