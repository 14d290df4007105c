"""bench/bench_verify.py's interval for the median of paired ratios (issue 13's speed bar is
read from it, so it is tested against the binomial coverage it claims)."""

from __future__ import annotations

import math
import re
import runpy
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_verify.py"
BENCH = runpy.run_path(str(SCRIPT), run_name="bench_verify")
median_interval = BENCH["median_interval"]


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


def test_pooled_rounds_are_read_back_from_their_tables(tmp_path):
    rounds = []
    for r, ratios in enumerate(([0.4, 0.5, 0.6], [0.45, 0.55])):
        lines = ["base: b; checkout: c", "| pair | base CPU s | checkout CPU s | ratio |"]
        lines += [f"| {i} | 10.00 | {10 * q:.2f} | {q:.3f} |" for i, q in enumerate(ratios, 1)]
        rounds.append(tmp_path / f"round{r}.txt")
        rounds[-1].write_text("\n".join([*lines, "median ratio 0.5; ..."]) + "\n")
    summary = BENCH["pooled"]([str(p) for p in rounds])
    assert summary.startswith("5 pairs from 2 files: median ratio 0.500;")
    assert "interval for the median [0.400, 0.600]" in summary  # n = 5: the whole range
    (tmp_path / "empty.txt").write_text("no table here\n")
    with pytest.raises(SystemExit, match=re.escape("no '| pair")):
        BENCH["pooled"]([str(tmp_path / "empty.txt")])
