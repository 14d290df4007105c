"""Each ledger row backed by the mathematics itself: exact sympy identities, substitution,
and independent numerics. No test compares a verdict with a typed-in word; the verdict is a
function of (exact, consequence), which these tests re-derive."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize

from msanalysis import ledger as C
from msanalysis import symbolic as S
from msanalysis.ledger import compare, rule
from msanalysis.ledger import functions as F
from msanalysis.paper import FRACTIONS, PRINTED, G

XI, ETA = S.XI, S.ETA


@pytest.fixture(scope="module")
def rows():
    return {r.id: r for r in C.ledger()}


def test_ledger_rows_are_complete_and_verdicts_follow_the_rule(rows):
    assert len(rows) == len(C.CHECKS)
    for r in rows.values():
        assert r.source and r.paper and r.derived and r.evidence
        assert r.verdict is C.judge(exact=r.exact, consequence=r.consequence)
    payload = json.loads(C.to_json(list(rows.values())))
    keys = {"id", "source", "paper", "derived", "verdict", "evidence", "consequence_tested"}
    assert keys | {"reading", "exact", "consequence"} <= set(payload[0])
    assert all(r["consequence_tested"] for r in payload)


def test_eq8_misses_a_factor_xi_but_keeps_the_threshold(rows):
    printed, derived = PRINTED["eq. 8"], S.grad_logit("ms")
    assert sp.simplify(printed - derived - 2 * ETA * (1 - XI) ** 2 * (2 * XI - 1)) == 0
    # Printed zero (1 + 2η)/(4η) and derived zero both reach ξ = 1 exactly at η = 1/2.
    printed_root = sp.solve(sp.cancel(printed / (1 - XI)), XI)[0]
    assert sp.simplify(printed_root - (1 + 2 * ETA) / (4 * ETA)) == 0
    assert sp.solve(printed_root - 1, ETA) == [S.eta_threshold("ms")]
    # Same threshold, but not the same location: the consequence (location and kind) fails.
    assert not rows["eq8-gradient"].exact and not rows["eq8-gradient"].consequence


def test_eq5_focal_part_has_the_wrong_sign():
    printed_focal = PRINTED["eq. 5"].subs(ETA, 0)
    derived_focal = S.grad_logit("focal")
    assert sp.simplify(printed_focal + derived_focal) == 0
    # γ = 0 must give CE's gradient ξ - 1 (α = 1): the derived form does, the printed does not.
    assert sp.simplify(derived_focal.subs({S.GAMMA: 0, S.ALPHA: 1}) - (XI - 1)) == 0
    assert sp.simplify(printed_focal.subs({S.GAMMA: 0, S.ALPHA: 1}) - (1 - XI)) == 0


def test_eq4_literal_label_factor_removes_the_focal_term():
    literal = PRINTED["eq. 4"].subs({sp.Symbol("y", nonnegative=True): 1, S.GAMMA: 2})
    assert sp.simplify(literal - S.loss("ms") - sp.log(XI)) == 0  # only η(ξ² + (1-ξ)²) is left


@pytest.mark.parametrize("name, threshold", [("ms", sp.Rational(1, 2)), ("centred-ce", 1)])
def test_threshold_is_where_the_root_reaches_one(name, threshold):
    assert S.eta_threshold(name) == threshold
    root = max(S.stationary_closed_form(name), key=lambda r: r.subs(ETA, 1))
    assert sp.simplify(root.subs(ETA, threshold)) == 1
    above, below = threshold * sp.Rational(11, 10), threshold * sp.Rational(9, 10)
    assert 0 < root.subs(ETA, above) < 1 and root.subs(ETA, below) > 1
    assert sp.simplify(S.grad_xi(name).subs(XI, root)) == 0  # substitute back


def test_theorem3_proof_root_is_not_a_stationary_point(rows):
    wrong = PRINTED["eq. 35"].subs(ETA, sp.Rational(3, 2))
    assert S.grad_xi("centred-ce", eta=sp.Rational(3, 2)).subs(XI, wrong) != 0
    assert sp.solve(PRINTED["eq. 35"] - 1, ETA) == [sp.Rational(1, 2)]
    assert rows["thm3-eq31"].derived.endswith(f"η > {S.eta_threshold('centred-ce')}")


def test_eq31_is_eq7_with_eta_halved():
    assert sp.simplify(S.loss("centred-ce") - S.loss("ms", eta=ETA / 2) + ETA / 4) == 0


def test_theorem2_roots_substitute_back_and_centre_the_boundary():
    parts = S.theorem2_gradient_parts()
    point = S.theorem2_point()
    xi1, w_star, b_star = point.xi1, point.w, point.b
    assert sp.simplify(parts["eq. 21"].subs(XI, xi1)) == 0
    assert sp.simplify(parts["eq. 22"].subs(G, 1 - xi1)) == 0
    assert b_star == sp.Rational(1, 2)
    system = S.two_point_system("ms", eta=sp.Rational(3, 2))
    at = {S.W: w_star.subs(ETA, sp.Rational(3, 2)), S.B: b_star}
    assert abs(sp.N(system.grad_w.subs(at), 60)) < 1e-50
    assert abs(sp.N(system.grad_b.subs(at), 60)) < 1e-50
    assert system.boundary.subs(at) == 0


def test_eq28_corrected_root_is_negative_and_eq29_is_one_minus_eq27():
    a, n, d = FRACTIONS["eq. 28"]
    corrected = (a + n) / d
    for eta in (sp.Rational(1, 100), 1, 100):
        assert corrected.subs(ETA, eta) < 0
    a, n, d = FRACTIONS["eq. 29"]
    assert sp.simplify((a + n) / d - (1 - PRINTED["eq. 27"])) == 0


def test_ce_gradient_is_negative_everywhere_numerically():
    system = S.two_point_system("ce", paper_parametrisation=True)
    grad_w = sp.lambdify((S.W, S.B), system.grad_w, "numpy")
    w, b = np.meshgrid(np.linspace(-20, 20, 201), np.linspace(-20, 20, 201))
    assert np.all(grad_w(w, b) < 0)


def test_theorem2_fails_off_the_symmetric_set_by_independent_minimisation():
    """The asymmetric MS minimum, found by scipy on the lambdified loss, is not at x = 0."""
    system = S.linear_system("ms", ((1, 1), (3, 1), (-1, 0)), eta=sp.Rational(3, 2))
    f = sp.lambdify([(S.W, S.B)], system.loss, "numpy")
    jac = sp.lambdify([(S.W, S.B)], [system.grad_w, system.grad_b], "numpy")
    res = minimize(f, x0=[0.1, 0.0], jac=lambda v: np.array(jac(v)), method="BFGS", tol=1e-12)
    boundary = -res.x[1] / res.x[0]
    assert np.linalg.norm(jac(res.x)) < 1e-8  # a stationary point to float precision
    assert abs(boundary) > 0.1  # max margin is x = 0, the midpoint of -1 and 1
    exact = sp.nsolve([system.grad_w, system.grad_b], [S.W, S.B], [0.5, 0.0], prec=30)
    assert abs(float(system.boundary.subs({S.W: exact[0], S.B: exact[1]})) - boundary) < 1e-6
    assert not F.theorem2_general().exact


def test_spectral_decoupling_is_not_the_ms_term():
    assert sp.limit(S.loss("ms") - S.loss("ce"), XI, 1, "-") == ETA
    assert sp.limit(S.loss("spectral-decoupling") - S.loss("ce"), XI, 1, "-") == sp.oo
    assert len(S.stationary_points("spectral-decoupling", lam=sp.Rational(1, 100))) == 1
    assert S.stationary_points("ms", eta=sp.Rational(1, 100)) == []


def _generated():
    """docs/update_generated.py, the script that writes the generated findings blocks."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "docs" / "update_generated.py"
    spec = importlib.util.spec_from_file_location("update_generated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_findings_page_summary_is_current(rows):
    gen = _generated()
    page = open("docs/findings.md", encoding="utf-8").read()
    assert gen.block(page, gen.FINDINGS_MARKERS) == C.summary_markdown(list(rows.values())), (
        "docs/findings.md's ledger summary is stale: run `python docs/update_generated.py`"
    )


def test_readme_findings_are_current(rows):
    gen = _generated()
    readme = open("README.md", encoding="utf-8").read()
    assert gen.block(readme, gen.README_MARKERS) == gen.readme_findings(list(rows.values())), (
        "README's findings block is stale: run `python docs/update_generated.py`"
    )


def test_committed_proofs_are_current(tmp_path):
    from msanalysis import proofs

    for path in proofs.write(tmp_path):
        committed = open(f"proofs/{path.name}", encoding="utf-8").read()
        assert path.read_text(encoding="utf-8") == committed, (
            f"proofs/{path.name} is stale: run `msanalysis proofs`"
        )


def test_theorem2_parts_agree_with_the_chain_rule():
    """eqs. 21-24 as derived equal ∂ℓ/∂o (true logit) times ∂o/∂θ of each sample."""
    g = S.grad_logit("ms")
    parts = S.theorem2_gradient_parts()
    assert sp.simplify(parts["eq. 21"] - 2 * g) == 0
    assert sp.simplify(parts["eq. 23"] - 2 * g) == 0
    # The negative's true-class logit is -z, z = 2(b - w) - 1: ∂(-z)/∂w = 2, ∂(-z)/∂b = -2.
    assert sp.simplify(parts["eq. 22"] - 2 * g.subs(XI, 1 - G)) == 0
    assert sp.simplify(parts["eq. 24"] + 2 * g.subs(XI, 1 - G)) == 0


# ---- one test per remaining ledger row: the mathematics, checked independently of the row


def _ce_two_point_numeric():
    system = S.two_point_system("ce", paper_parametrisation=True)
    loss = sp.lambdify((S.W, S.B), system.loss, "numpy")
    grad = sp.lambdify((S.W, S.B), [system.grad_w, system.grad_b], "numpy")
    return loss, grad


def test_eq3_plus_sign_ascends_and_minus_descends():
    loss, grad = _ce_two_point_numeric()
    rng = np.random.default_rng(0)
    for w, b in rng.uniform(-3, 3, size=(20, 2)):
        g = np.array(grad(w, b))
        step = 1e-4
        assert loss(*(np.array([w, b]) + step * g)) > loss(w, b)  # eq. 3 as printed
        assert loss(*(np.array([w, b]) - step * g)) < loss(w, b)  # the corrected update


def test_eq11_printed_step_is_not_the_gradient_step_but_both_lower_the_loss():
    x, w, b, lr = 1.0, 0.3, 0.2, 0.1
    p = 1 / (1 + np.exp(-(2 * (w * x + b) - 1)))

    def loss(w_):
        return np.log1p(np.exp(-(2 * (w_ * x + b) - 1)))  # -log p

    gd = 2 * lr * x * (1 - p)  # -lr dL/dw, dL/dw = -2x(1-p)
    assert not np.isclose(lr / p, gd)
    assert loss(w + gd) < loss(w) and loss(w + lr / p) < loss(w)  # eqs. 14-16: any Δw > 0


def test_theorem1_lower_loss_with_the_same_boundary():
    loss, _ = _ce_two_point_numeric()
    for w in (0.5, 2.0, 7.0):
        for c in (1.5, 3.0):
            b = 0.5  # boundary (1/2 - b)/w = 0, the max-margin boundary
            w2, b2 = c * w, (c * (2 * b - 1) + 1) / 2
            assert (0.5 - b2) / w2 == 0
            assert loss(w2, b2) < loss(w, b)


def test_eq25_26_printed_system_is_the_negated_derived_one():
    roots = S.theorem2_roots()
    d_w, d_b = roots.d_w, roots.d_b
    assert sp.simplify(PRINTED["eq. 21"] + PRINTED["eq. 22"] + d_w) == 0
    assert sp.simplify(PRINTED["eq. 23"] + PRINTED["eq. 24"] + d_b) == 0


def test_eq34_root_is_not_a_root_of_the_derived_condition():
    derived = S.grad_logit("centred-ce")
    printed_root = sp.solve(PRINTED["eq. 34"] / (1 - XI), XI)[0]
    assert sp.simplify(printed_root - 1 / (2 * ETA)) == 0
    assert derived.subs({XI: printed_root, ETA: 3}) != 0  # 1/6 is not stationary at η = 3
    true_root = max(S.stationary_closed_form("centred-ce"), key=lambda r: r.subs(ETA, 1))
    assert sp.simplify(derived.subs(XI, true_root)) == 0


@pytest.mark.parametrize("gamma", [0, 0.5, 1, 2, 5])
def test_focal_logit_gradient_is_negative_on_the_open_interval(gamma):
    g = sp.lambdify(XI, S.grad_logit("focal", alpha=1, gamma=gamma), "numpy")
    xi = np.linspace(1e-6, 1 - 1e-6, 10001)
    assert np.all(g(xi) < 0)


@pytest.mark.parametrize("k", [2, 3, 10])
def test_vector_reading_all_ones_threshold_is_a_quarter(k):
    """Σ_k p_k² + (1 - p_k)² with the other classes sharing 1 - ξ: roots appear above η = 1/4."""
    rest = (1 - XI) / (k - 1)
    vector = -sp.log(XI) + ETA * (XI**2 + (1 - XI) ** 2 + (k - 1) * (rest**2 + (1 - rest) ** 2))
    g = sp.diff(vector, XI)
    for eta, has_root in ((sp.Rational(3, 10), True), (sp.Rational(1, 5), False)):
        assert bool(S.roots_in_unit_interval(g.subs(ETA, eta))) is has_root
    assert not F.vector_reading_all_ones().exact


def test_table1_text_against_the_papers_own_numbers():
    from msanalysis.paper import quoted_tables

    acc = quoted_tables()["table1"]["accuracy"]["googlenet"]
    assert acc["ms"]["pgd"] - acc["ce"]["pgd"] < 20  # 3.89 - 3.30 in the paper's Table 1
    assert not F.table1_text().exact


# ---- the rule, applied to every row: substituted statements move the verdict


def _mutations():
    for entry in C.CHECKS:
        if entry.corrected is not None:
            yield pytest.param(entry, "corrected", id=f"{entry.name}-corrected")
        if entry.wrong is not None:
            yield pytest.param(entry, "wrong", id=f"{entry.name}-wrong")


@pytest.mark.parametrize("entry, kind", list(_mutations()))
def test_mutated_statement_moves_the_verdict(entry, kind):
    """The derived statement in place of the printed one makes the row HOLD; a wrong one FAIL."""
    if kind == "corrected":
        assert C.run(entry, entry.corrected()).verdict is C.Verdict.HOLDS
    else:
        assert C.run(entry, entry.wrong(PRINTED)).verdict is C.Verdict.FAILS


def test_every_row_can_move_and_reads_its_printed_statement(rows):
    for entry in C.CHECKS:
        assert entry.keys and set(entry.keys) <= set(PRINTED)
        current = rows[C.run(entry).id].verdict
        # A row exact as printed needs a wrong statement to show it can fail; any other row
        # needs the derived statement to show it can hold.
        if current is C.Verdict.HOLDS:
            assert entry.wrong is not None, entry.name
        else:
            assert entry.corrected is not None, entry.name


# Rows whose consequence never reads the printed statement: no printed change can make them
# FAIL, so they have no ``wrong`` mutation (table1_text: the smallest gain of Table 1 is positive
# whatever cut the text quotes; accuracy_kept: MS >= CE in Table 1, whatever the abstract says).
UNMOVABLE_CONSEQUENCE = {"table1_text", "accuracy_kept"}


def test_every_row_registers_its_mutations(rows):
    """Every row has a wrong statement that makes it FAIL, and every row that does not HOLD as
    printed the derived one that makes it HOLD, so a row whose verdict cannot move cannot come
    back."""
    names = {entry.name for entry in C.CHECKS}
    assert UNMOVABLE_CONSEQUENCE <= names
    for entry in C.CHECKS:
        if rows[C.run(entry).id].verdict is not C.Verdict.HOLDS:
            assert entry.corrected is not None, entry.name
        if entry.name not in UNMOVABLE_CONSEQUENCE:
            assert entry.wrong is not None, entry.name
            continue
        assert entry.wrong is None, f"{entry.name} can fail: drop it from UNMOVABLE_CONSEQUENCE"
        consequences = {r.consequence for r in _all_runs(entry)}
        assert consequences == {True}, entry.name  # printed and derived alike: never moves


def test_no_row_passes_one_value_for_both_facts():
    """Rows whose exact and consequence agree today must disagree under some substitution."""
    for entry in C.CHECKS:
        outcomes = {(r.exact, r.consequence) for r in _all_runs(entry)}
        assert len({e for e, _ in outcomes}) == 2 or len(outcomes) > 1, entry.name


def _all_runs(entry):
    yield C.run(entry)
    if entry.corrected is not None:
        yield C.run(entry, entry.corrected())
    if entry.wrong is not None:
        yield C.run(entry, entry.wrong(PRINTED))


# ---- the defects of issue 13, each a test that failed on the previous ledger


def test_eq5_printed_threshold_is_read_on_the_whole_interval():
    """Printed eq. 5 (α = 1, γ = 2) has its zero only for η > 1/2, found at ξ → 0⁺."""
    printed = PRINTED["eq. 5"].subs({S.ALPHA: 1, S.GAMMA: 2})
    assert compare.critical_etas(printed) == [sp.Rational(1, 2)]
    assert S.roots_in_unit_interval(printed.subs(ETA, sp.Rational(1, 4))) == []
    assert S.stationary_points("ms-focal", eta=sp.Rational(1, 4), alpha=1, gamma=2)
    assert not F.eq5_gradient().consequence


def test_eq8_compares_location():
    cmp = compare.same_stationary_points(PRINTED["eq. 8"], S.grad_logit("ms"))
    assert not cmp.same and "printed" in cmp.first_difference


def test_same_stationary_points_accepts_a_positive_factor():
    g = S.grad_logit("ms")
    assert compare.same_stationary_points(3 * g / (1 + XI), g).method == "symbolic η"


def test_fig2_ms_two_stationary_is_a_condition_on_the_family(rows):
    assert compare.eta_set(S.grad_xi("ms"), ("minimum",)) == sp.Interval.open(
        S.eta_threshold("ms"), sp.oo
    )
    assert rows["fig2-ms-two-stationary"].verdict is C.Verdict.HOLDS_WITH_CORRECTION


def test_eq30_root_is_never_admissible_and_the_row_fails(rows):
    gamma2 = PRINTED["eq. 30"]
    for eta in (sp.Rational(1, 100), 1, 100):
        assert gamma2.subs(ETA, eta) > 1
    assert rows["eq30-root"].verdict is C.Verdict.FAILS


def test_theorem2_b_follows_from_eqs_27_and_29_not_28():
    point = S.theorem2_point()
    assert sp.simplify(point.gamma1 - (1 - point.xi1)) == 0
    a, n, d = FRACTIONS["eq. 29"]
    assert sp.simplify((a + n) / d - point.gamma1) == 0
    a, n, d = FRACTIONS["eq. 28"]
    assert ((a + n) / d).subs(ETA, 1) < 0  # no logit: cannot give b
    assert F.theorem2_boundary().derived.count("eq. 29") == 1


def test_vector_reading_sentence_follows_the_thresholds(rows):
    """Both vector readings are computed; "depends on K" appears only if the numbers differ."""
    thresholds = C.section5.vector_thresholds()
    assert set(thresholds) == {"all-ones minus p", "one-hot minus p"}
    for reading, values in thresholds.items():
        row = rows[f"eq7-vector-{reading.split()[0]}"]
        constant = len(set(values.values())) == 1
        assert ("the same for every K" in row.derived) is constant
        assert ("depends on K" in row.derived) is not constant
    # one-hot: |e_y - p|² adds 2(1-ξ)²/(K-1), whose slope vanishes at ξ → 1: threshold 1/2.
    assert set(thresholds["one-hot minus p"].values()) == {S.eta_threshold("ms")}


def test_ce_implicit_bias_off_centre_is_not_the_max_margin():
    """Least-norm (w, b) with y(wx + b) >= 1 for x = 1 (+), x = -4 (-): boundary -1, SVM -3/2."""
    w, b = S.augmented_max_margin(S.OFF_CENTRE_POINTS)
    assert (w, b) == (sp.Rational(1, 2), sp.Rational(1, 2))
    res = minimize(
        lambda v: v @ v,
        x0=[1.0, 0.0],
        constraints=[
            {"type": "ineq", "fun": lambda v: v[0] * 1 + v[1] - 1},
            {"type": "ineq", "fun": lambda v: -(v[0] * -4 + v[1]) - 1},
        ],
        method="SLSQP",
    )
    assert np.allclose(res.x, [0.5, 0.5], atol=1e-6)  # SLSQP converges to 1e-6 here
    runs = C.simulations.off_centre_runs()
    assert abs(runs["ms"] + 1.5) < 1e-6  # MS: each sample at ξ*, the midpoint
    assert -1.5 < -1 < runs["ce"] < 0  # CE heads for -1 from 0, never for -3/2
    # The a + c/log t fit lands within 0.1 of -1 (it reads -0.982; -3/2 is 0.5 away).
    assert abs(runs["ce_extrapolated"] + 1) < 0.1


def test_format_is_one_notation():
    assert compare.fmt(S.grad_xi("ms")) == "4·η·ξ-2·η-1/ξ"
    assert " " not in compare.fmt(PRINTED["eq. 5"])


@pytest.mark.parametrize(
    ("exact", "consequence", "verdict"),
    [
        (True, True, "HOLDS"),
        (False, True, "HOLDS_WITH_CORRECTION"),
        (True, False, "FAILS"),  # the statement is right, the conclusion drawn from it is not
        (False, False, "FAILS"),
    ],
)
def test_rule_reads_both_facts(exact, consequence, verdict):
    assert rule.judge(exact=exact, consequence=consequence).value == verdict


def test_an_exact_statement_with_a_failed_conclusion_fails(rows):
    row = rows["sec32-optimal-infimum"]
    assert row.exact and not row.consequence and row.verdict is C.Verdict.FAILS


@pytest.mark.parametrize("eta", [sp.Rational(3, 2), sp.Rational(7, 10), sp.Integer(6)])
def test_theorem2_hessian_is_the_second_derivative_of_the_summed_loss(eta):
    """symbolic.theorem2_hessian (one derivative in ξ, the ledger's and proofs/theorem2.md's
    Hessian) against sympy's Hessian of the summed two-point loss in (w, b), at η on both sides
    of the paper's 3/2; and it is 8·ξ1(1-ξ1)²·q'(ξ1)·I with q = dℓ/dz / (1 - ξ)."""
    point = S.theorem2_point()
    system = S.two_point_system("ms")
    at = {S.W: point.w.subs(ETA, eta), S.B: point.b}
    direct = sp.hessian(system.loss.subs(ETA, eta), (S.W, S.B)).subs(at)
    derived = S.theorem2_hessian().matrix.subs(ETA, eta)
    assert all(abs(sp.N(v, 40)) < 1e-30 for v in (direct - derived))
    q = sp.cancel(S.grad_logit("ms") / (1 - XI))
    xi1 = point.xi1.subs(ETA, eta)
    curvature = xi1 * (1 - xi1) ** 2 * sp.diff(q, XI).subs({XI: xi1, ETA: eta})
    assert all(abs(sp.N(v, 40)) < 1e-30 for v in (derived - 8 * curvature * sp.eye(2)))


def test_docs_list_every_row(rows):
    text = open("docs/ledger.md", encoding="utf-8").read()
    missing = [row_id for row_id in rows if f"`{row_id}`" not in text]
    assert not missing, f"docs/ledger.md does not list {missing}"


def test_table2_is_monotone_and_matches_resnet34_of_table1(rows):
    t2, t1 = PRINTED["Table 2"], C.tables.paper_tables()["table1"]["accuracy"]
    for method, row in t2.items():
        for eps in ("8/255", "16/255"):
            assert row[f"pgd50@{eps}"] <= row[f"pgd10@{eps}"], method
        for steps in ("10", "50"):
            assert row[f"pgd{steps}@16/255"] <= row[f"pgd{steps}@8/255"], method
    pgd40 = {m: r["ms"]["pgd"] for m, r in t1.items()}
    inside = [
        m for m, v in pgd40.items() if t2["ms"]["pgd50@8/255"] <= v <= t2["ms"]["pgd10@8/255"]
    ]
    assert inside == ["resnet34"]
    assert "resnet34" in rows["table2-consistency"].derived
