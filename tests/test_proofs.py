"""The step-by-step proofs (msanalysis/proofs.py): each step computed and stated from the result."""

import re

import pytest
import sympy as sp

from msanalysis import proofs
from msanalysis import symbolic as S


@pytest.fixture(scope="module")
def documents():
    return {name: build() for name, build in proofs.DOCUMENTS.items()}


def test_no_step_shows_a_bare_zero(documents):
    for name, text in documents.items():
        for math in re.findall(r"\$\$ (.*?) \$\$", text):
            assert math.strip() not in ("0", "= 0"), f"{name}: a step shows a bare 0"


def test_division_by_one_minus_xi_and_by_gamma_is_stated_where_done(documents):
    text = documents["theorem2.md"]
    assert "dividing by $2 - 2 \\xi$, which vanishes at $\\xi$ = $1$ (none in (0, 1)" in text
    assert "dividing by $2 \\gamma_{-}$, which vanishes at $\\gamma_{-}$ = $0$" in text
    assert "multiplying by ξ, positive on (0, 1)" in documents["theorem3.md"]


def test_division_step_reports_a_zero_inside_the_interval():
    # A divisor vanishing at ξ = 1/2 must be reported as losing that point.
    text, _ = proofs.division_step(S.XI * (2 * S.XI - 1), 2 * S.XI - 1, S.XI, "test")
    assert "points the division loses" in text and "\\frac{1}{2}" in text


def test_admissibility_of_every_root_is_computed(documents):
    roots = S.theorem2_roots()
    xi2 = min(roots.xi_roots, key=lambda r: r.subs(S.ETA, 1))
    gamma2 = max(roots.gamma_roots, key=lambda r: r.subs(S.ETA, 1))
    text = documents["theorem2.md"]
    assert f"${sp.latex(xi2)}$ is negative for every η > 0" in text
    assert f"${sp.latex(gamma2)}$ is greater than 1 for every η > 0" in text
    # The sentence follows the computation: an admissible root is called admissible.
    assert "admissible there" in proofs.admissibility(1 - 1 / (2 * S.ETA + 2), "ξ")
    assert "negative for every" in proofs.admissibility(-S.ETA, "ξ")


def test_theorem3_substitutes_the_printed_root_back_and_concludes(documents):
    step, stationary = proofs.substitution_step(
        1 / (2 * S.ETA), S.grad_xi("centred-ce"), "eq. 31", "ξ = 1/(2η)"
    )
    assert not stationary and "η = $\\frac{1}{3}$" in step[0]
    assert step[1].rhs == 1 - 3 * S.ETA
    text = documents["theorem3.md"]
    assert "Substituted back into eq. 31's derivative" in text
    assert "Substituted back into eq. 7's derivative" in text
    assert "Theorem 3's bound is not the one eq. 31 needs" in text
    # A root that is stationary somewhere in (0, 1) is reported as such.
    _, found = proofs.substitution_step(
        1 / (2 * S.ETA), S.XI - sp.Rational(1, 3), "a test loss", "ξ = 1/(2η)"
    )
    assert found


def test_theorem2_carries_the_hessian_for_symbolic_eta(documents):
    text = documents["theorem2.md"]
    assert "Second order, for symbolic η" in text
    definite = text.split("strict minimum, exactly for")[1].split("$$")[1]
    assert definite.strip() == sp.latex(
        sp.Contains(S.ETA, sp.Interval.open(sp.Rational(1, 2), sp.oo), evaluate=False)
    )
