"""Write the lesson notebooks of docs/lessons/ and their solutions from one source.

Each lesson is a list of cells; an :class:`Exercise` holds the student's answer cell, the
teacher's solution cell and one check cell shared by both notebooks, so the two versions
cannot drift apart. The notebooks are written without outputs or execution counts, with
stable cell ids, so running this script twice gives identical files
(tests/test_lessons.py checks that the committed notebooks are this script's output).

    python docs/lessons/make_lessons.py

Tags: ``parameters`` (sizes a test may override), ``exercise`` (the student's answer cell),
``solution`` (the teacher's version of it) and ``check`` (asserts the answer against values
the package derives; prints "Exercise N: correct" when it passes).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import nbformat
from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent
SOLUTIONS = HERE / "solutions"


@dataclass(frozen=True)
class Md:
    text: str


@dataclass(frozen=True)
class Code:
    source: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exercise:
    """Exercise ``number``: a prompt, the student's stub, the solution, and the shared check."""

    number: int
    prompt: str
    stub: str
    solution: str
    check: str


def _clean(text: str) -> str:
    return dedent(text).strip("\n")


def _check_cell(ex: Exercise) -> str:
    """The check: skipped (with a hint) while the answer is ``...``, else asserts and says so."""
    body = _clean(ex.check).replace("\n", "\n    ")
    return (
        f"# Check exercise {ex.number}: compares your answer with what msanalysis derives.\n"
        f"if answer_{ex.number} is ...:\n"
        f"    print('Exercise {ex.number}: not answered yet; replace ... above and re-run')\n"
        f"else:\n    {body}\n"
        f"    print('Exercise {ex.number}: correct')"
    )


def _cells(items: list, *, solutions: bool) -> list[NotebookNode]:
    cells = []
    for item in items:
        if isinstance(item, Md):
            cells.append(nbformat.v4.new_markdown_cell(_clean(item.text)))
        elif isinstance(item, Code):
            cell = nbformat.v4.new_code_cell(_clean(item.source))
            if item.tags:
                cell.metadata["tags"] = list(item.tags)
            cells.append(cell)
        else:
            ex = item
            cells.append(
                nbformat.v4.new_markdown_cell(f"### Exercise {ex.number}\n\n{_clean(ex.prompt)}")
            )
            answer = ex.solution if solutions else ex.stub
            cell = nbformat.v4.new_code_cell(_clean(answer))
            cell.metadata["tags"] = ["solution" if solutions else "exercise"]
            cells.append(cell)
            check = nbformat.v4.new_code_cell(_check_cell(ex))
            check.metadata["tags"] = ["check"]
            cells.append(check)
    return cells


def notebook(stem: str, items: list, *, solutions: bool) -> NotebookNode:
    """One lesson as a notebook without outputs; cell ids are stable (stem + index)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nb.cells = _cells(items, solutions=solutions)
    prefix = f"{stem[:2]}{'s' if solutions else 'e'}"
    for i, cell in enumerate(nb.cells):
        cell.id = f"{prefix}-{i:03d}"
    nbformat.validate(nb)
    return nb


# ============================================================================== lesson 1

LESSON_1 = [
    Md(r"""
        # Lesson 1: stationary points of a loss of ξ

        **Learning goal.** Derive dℓ/dξ of a loss with `msanalysis.symbolic`, find and classify
        its stationary points in (0, 1), and explain why cross-entropy (CE) has none there while
        the paper's two-stationary-point CE (eq. 7, called `ms` in the package) has one.

        Every loss of the paper is a function of ξ, the softmax probability of the true class
        (eq. 1). The paper adds η(ξ² + (1 − ξ)²) to a loss of ξ; the package defines each loss
        once (`msanalysis.losses`) and `msanalysis.symbolic` turns it into sympy expressions.
        Nothing in this lesson types a formula in: every expression comes from the package.
        """),
    Code("""
        %matplotlib inline
        import numpy as np
        import sympy as sp
        import matplotlib.pyplot as plt
        from scipy.optimize import brentq

        from msanalysis import symbolic
        from msanalysis.symbolic import ETA, XI
        """),
    Md("""
        ## 1. The losses as expressions of ξ

        Hyper-parameters you do not give stay symbols (η, α, γ).
        """),
    Code("""
        ce = symbolic.loss("ce")
        ms = symbolic.loss("ms")  # eq. 7: CE + η(ξ² + (1 − ξ)²)
        ce, ms
        """),
    Md("""
        ## 2. Their derivatives in ξ

        A stationary point is a root of dℓ/dξ in (0, 1).
        """),
    Code("""
        symbolic.grad_xi("ce"), symbolic.grad_xi("ms")
        """),
    Md("""
        dℓ/dξ of CE is −1/ξ: negative everywhere, never zero. For `ms` the term
        η(ξ² + (1 − ξ)²) adds a slope that grows with ξ, which can cancel −1/ξ. Where?
        `stationary_points` returns every root in (0, 1) with its kind (minimum or maximum, from
        the sign of d²ℓ/dξ²): exactly when dℓ/dξ is rational (as here), by certified numeric
        root isolation otherwise. We use η = 3/2, the value of the paper's Figure 5.
        """),
    Code("""
        ETA_VALUE = sp.Rational(3, 2)
        points = symbolic.stationary_points("ms", eta=ETA_VALUE)
        points
        """),
    Code("""
        xi_star = points[0].xi
        print(f"ξ* = {xi_star} ≈ {float(xi_star):.6f}, a {points[0].kind}")
        # Substitute back: the derivative vanishes exactly there.
        assert sp.simplify(symbolic.grad_xi("ms", eta=ETA_VALUE).subs(XI, xi_star)) == 0
        print("CE's stationary points in (0, 1):", symbolic.stationary_points("ce"))
        """),
    Md("""
        ## 3. Plot them

        `sympy.lambdify` turns the package's expressions into numpy functions; the plots show
        those, no second formula.
        """),
    Code("""
        xi = np.linspace(0.02, 0.995, 400)
        fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(10, 3.6))
        for name, params in [("ce", {}), ("ms", {"eta": ETA_VALUE})]:
            loss_fn = sp.lambdify(XI, symbolic.loss(name, **params), "numpy")
            grad_fn = sp.lambdify(XI, symbolic.grad_xi(name, **params), "numpy")
            ax_loss.plot(xi, loss_fn(xi), label=name)
            ax_grad.plot(xi, grad_fn(xi), label=name)
        ax_loss.axvline(float(xi_star), ls=":", c="gray")
        ax_grad.axhline(0, c="k", lw=0.8)
        ax_grad.axvline(float(xi_star), ls=":", c="gray", label="ξ* of ms")
        ax_grad.set_ylim(-10, 5)
        ax_loss.set(xlabel="ξ", ylabel="ℓ(ξ)", title="loss, η = 3/2")
        ax_grad.set(xlabel="ξ", ylabel="dℓ/dξ", title="derivative in ξ")
        ax_grad.legend()
        plt.show()
        """),
    Md("""
        ## 4. Why CE has no stationary point in (0, 1)

        Training moves the logits, not ξ directly. The chain rule through the softmax (lesson 2)
        gives the gradient with respect to the true-class logit o: for CE it is ξ − 1, negative
        for every ξ in (0, 1). Gradient descent therefore always raises the true logit, and the
        gradient only tends to 0 as ξ → 1, i.e. o → ∞: CE's single, *asymptotic* stationary
        point. We prove the sign by writing ξ = 1/(1 + t), which sweeps (0, 1) once as t runs
        over (0, ∞).
        """),
    Code("""
        t = sp.Symbol("t", positive=True)
        g_ce = symbolic.grad_logit("ce")
        negative = sp.simplify(g_ce.subs(XI, 1 / (1 + t))).is_negative
        print("dℓ/do (CE) =", g_ce, "| negative on (0, 1):", negative,
              "| limit as ξ → 1:", symbolic.asymptotic_gradient("ce"))
        assert negative
        """),
    Md("""
        MS keeps that asymptotic point (its logit gradient also tends to 0 as ξ → 1) and adds the
        finite one, ξ*: hence "two stationary points". Its logit gradient factors as
        (1 − ξ) times a quadratic whose root in (0, 1) is ξ*.
        """),
    Code("""
        g_ms = symbolic.grad_logit("ms")
        print("dℓ/do (MS) =", g_ms)
        print("limit as ξ → 1 at η = 3/2:", symbolic.asymptotic_gradient("ms", eta=ETA_VALUE))
        """),
    Md("""
        The closed form of the finite root (`stationary_closed_form`) holds for every η. One
        root is always negative; the other lies in (0, 1) only for η large enough; lesson 3
        derives the threshold.
        """),
    Code("""
        symbolic.stationary_closed_form("ms")
        """),
    Exercise(
        1,
        """
        Take the closed form of MS's stationary points, substitute η = 2 and keep the root that
        lies in (0, 1). Give it as an exact sympy expression `answer_1`.
        """,
        """
        answer_1 = ...  # an exact sympy expression
        """,
        """
        candidates = [root.subs(ETA, 2) for root in symbolic.stationary_closed_form("ms")]
        answer_1 = next(root for root in candidates if 0 < root < 1)
        answer_1
        """,
        """
        expected = symbolic.stationary_points("ms", eta=2)
        assert len(expected) == 1, expected
        assert sp.simplify(answer_1 - expected[0].xi) == 0, f"{answer_1} is not {expected[0].xi}"
        """,
    ),
    Exercise(
        2,
        """
        The appendix's regularised CE (eq. 31, `centred-ce`) adds η(ξ − 1/2)² instead. Show that
        `centred-ce` with coefficient 2η and `ms` with coefficient η differ by a constant (no ξ
        in it): give that difference, `ms` minus `centred-ce`, as `answer_2`, an expression of
        `ETA`. What does that say about their stationary points?
        """,
        """
        answer_2 = ...  # an expression of ETA, free of XI
        """,
        """
        answer_2 = sp.simplify(symbolic.loss("ms", eta=ETA) - symbolic.loss("centred-ce", eta=2 * ETA))
        # A constant difference has zero derivative: the two losses share their stationary points,
        # so centred-ce needs twice MS's η for the same ξ* (compare their thresholds in lesson 3).
        answer_2
        """,
        """
        assert not sp.sympify(answer_2).has(XI), "the difference must not depend on ξ"
        difference = symbolic.loss("ms", eta=ETA) - symbolic.loss("centred-ce", eta=2 * ETA)
        assert sp.simplify(difference - answer_2) == 0, f"ms − centred-ce is not {answer_2}"
        same = symbolic.stationary_points("ms", eta=ETA_VALUE)
        assert symbolic.stationary_points("centred-ce", eta=2 * ETA_VALUE) == same
        """,
    ),
    Exercise(
        3,
        """
        The focal loss (α = 1, γ = 2) has no finite stationary point; MS-focal (eq. 4, `ms-focal`)
        adds the paper's term. Its dℓ/dξ contains a logarithm, so there is no closed form. Find its
        root for η = 3/2, α = 1, γ = 2 numerically with `scipy.optimize.brentq` on the lambdified
        `symbolic.grad_xi(...)`, and give it as the float `answer_3`. (Hint: plot the derivative
        first to find a bracket.)
        """,
        """
        answer_3 = ...  # a float in (0, 1)
        """,
        """
        params = {"eta": ETA_VALUE, "alpha": 1, "gamma": 2}
        derivative = sp.lambdify(XI, symbolic.grad_xi("ms-focal", **params), "numpy")
        print("sign at 0.1 and 0.99:", np.sign(derivative(0.1)), np.sign(derivative(0.99)))
        answer_3 = brentq(derivative, 0.1, 0.99, xtol=1e-14)
        answer_3
        """,
        """
        assert symbolic.stationary_points("focal", alpha=1, gamma=2) == []
        (expected,) = symbolic.stationary_points("ms-focal", eta=ETA_VALUE, alpha=1, gamma=2)
        assert expected.kind == "minimum" and not expected.exact
        assert abs(answer_3 - float(expected.xi)) < 1e-9, f"{answer_3} is not {float(expected.xi)}"
        """,
    ),
    Md("""
        **Takeaway.** A loss of ξ has a finite stationary point only where dℓ/dξ changes sign in
        (0, 1). CE's derivative never does, so CE only "stops" as ξ → 1 (the logit → ∞). The
        paper's term can create a finite minimum ξ* < 1; lesson 3 asks for which η.
        """),
]

# ============================================================================== lesson 2

LESSON_2 = [
    Md(r"""
        # Lesson 2: from ξ to logits, the chain rule through the softmax

        **Learning goal.** Derive the gradient of a loss of ξ with respect to the logits, for the
        true class and for another class, binary and K-class; confirm it against torch autograd;
        and find where the paper's printed gradients (eqs. 5 and 8) go wrong, using the claims
        ledger.

        A network outputs logits o₁ … o_K; ξ = softmax(o)_y for the true class y. So
        dℓ/do = dℓ/dξ · ∂ξ/∂o, and everything hinges on the softmax Jacobian.
        """),
    Code("""
        %matplotlib inline
        import numpy as np
        import sympy as sp
        import torch

        from msanalysis import figures, paper, symbolic
        from msanalysis.ledger import functions as claims
        from msanalysis.losses import get_loss
        from msanalysis.symbolic import ETA, P_OTHER, XI
        from msanalysis.training.losses import true_class_from_logits
        """),
    Md("""
        ## 1. The softmax Jacobian

        `softmax_jacobian()` differentiates a softmax with the true logit, one other logit o_j and
        a remainder standing for all other classes, then writes the result in ξ and p_j (the
        probability of class j). It holds for every K ≥ 2.
        """),
    Code("""
        d_true, d_other = symbolic.softmax_jacobian()
        print("∂ξ/∂o_true =", d_true, "   ∂ξ/∂o_j =", d_other)
        """),
    Md("""
        ## 2. The chain rule, by hand and by the package

        Multiply dℓ/dξ by the Jacobian and compare with `grad_logit`.
        """),
    Code("""
        by_hand = symbolic.grad_xi("ms") * d_true
        assert sp.simplify(by_hand - symbolic.grad_logit("ms", "true")) == 0
        symbolic.grad_logit("ms", "true"), symbolic.grad_logit("ms", "other")
        """),
    Md("""
        Two things to notice. The true-class gradient carries the factor ξ(1 − ξ) from the
        Jacobian, so it vanishes as ξ → 1 whatever dℓ/dξ does there (the asymptotic stationary
        point of lesson 1). And each other logit gets −p_j/(1 − ξ) times the true-class gradient;
        since the p_j of the other classes sum to 1 − ξ, the K gradients sum to zero (adding a
        constant to all logits changes nothing).

        **Binary case.** With one logit z and ξ = σ(z), d/dz ℓ(σ(z)) must equal the K-class
        true-logit gradient (K = 2 is the logit difference). The package checks it symbolically:
        """),
    Code("""
        for name in ("ce", "ms", "centred-ce"):
            print(name, "d/dz ℓ(σ(z)) − grad_logit:", symbolic.binary_logit_gradient_check(name))
        """),
    Md("""
        ## 3. Against torch autograd

        Build the `TrueClass` view of a batch of logits with the training code's
        `true_class_from_logits` (a stable log-softmax), apply the package's single definition of
        the loss (`get_loss("ms").bind(eta=...)`), and let autograd differentiate. Then evaluate
        the sympy gradients at the same ξ and p_j.
        """),
    Code("""
        N, K, eta = 6, 10, 1.5
        generator = torch.Generator().manual_seed(0)
        logits = (3 * torch.randn(N, K, generator=generator, dtype=torch.float64)).requires_grad_()
        target = torch.randint(0, K, (N,), generator=generator)

        ms_loss = get_loss("ms").bind(eta=eta)
        (autograd,) = torch.autograd.grad(ms_loss(true_class_from_logits(logits, target)).sum(), logits)

        probs = torch.softmax(logits, -1).detach().numpy()
        xi = probs[np.arange(N), target]
        true_fn = sp.lambdify(XI, symbolic.grad_logit("ms", "true", eta=eta), "numpy")
        other_fn = sp.lambdify((XI, P_OTHER), symbolic.grad_logit("ms", "other", eta=eta), "numpy")
        derived = other_fn(xi[:, None], probs)
        derived[np.arange(N), target] = true_fn(xi)

        print("max |autograd − derived| =", np.abs(autograd.numpy() - derived).max())
        print("largest |row sum| of the gradient:", autograd.sum(dim=1).abs().max().item())
        assert np.allclose(autograd.numpy(), derived, rtol=1e-10, atol=1e-12)
        """),
    Md("""
        ## 4. What the paper prints

        `msanalysis.paper.PRINTED_GRADIENTS` transcribes the paper's gradients with respect to the
        true logit, typos included: eq. 8 for MS (eq. 7) and eq. 5 for MS-focal (eq. 4). Compare
        eq. 8 with the derived gradient.
        """),
    Code("""
        eq, printed = paper.PRINTED_GRADIENTS["ms"]
        derived_ms = symbolic.grad_logit("ms")
        print(f"{eq} printed:", printed)
        print("derived:      ", sp.factor(derived_ms))
        print("printed − derived =", sp.factor(sp.simplify(printed - derived_ms)))
        """),
    Md("""
        The stationary-point part lacks a factor ξ. Autograd sides with the derivation:
        """),
    Code("""
        printed_fn = sp.lambdify(XI, printed.subs(ETA, sp.nsimplify(eta)), "numpy")
        rows = np.arange(N)
        print("autograd   :", autograd.numpy()[rows, target].round(6))
        print("eq. 8 value:", printed_fn(xi).round(6))
        """),
    Md("""
        The package's recomputed Figure 2 (`msanalysis.figures.figure2`) draws the derived
        gradients of CE, focal, MS-focal and MS next to the printed eqs. 5 and 8 (dashed), from
        the same expressions:
        """),
    Code("""
        figures.figure2(eta=1.5)
        """),
    Md("""
        ## 5. The claims ledger

        `msanalysis.claims` judges each claim of the paper by computing two facts: is the printed
        statement exactly the derived one, and if not, does what the paper concludes from it still
        hold? The rows for eqs. 8 and 5 (the whole ledger: `claims.ledger()`, or `msanalysis
        verify` on the command line):
        """),
    Code("""
        for row in (claims.eq8_gradient(), claims.eq5_gradient()):
            print(f"{row.id} ({row.source}): {row.verdict.value}")
            print("   ", row.evidence, "\\n")
        """),
    Md("""
        HOLDS_WITH_CORRECTION: the printed gradients are wrong, but the conclusions drawn from them
        (one finite minimum, the same η threshold) survive the correction. The minimum itself
        moves, as exercise 3 shows.
        """),
    Exercise(
        1,
        """
        Derive, with the chain rule (`symbolic.grad_xi` and `symbolic.softmax_jacobian`), the
        gradient of CE with respect to a logit o_j of a class that is *not* the true one. Give
        it as `answer_1`, an expression of `XI` and/or `P_OTHER`. Does the result look familiar?
        """,
        """
        answer_1 = ...  # an expression of XI and P_OTHER
        """,
        """
        answer_1 = sp.simplify(symbolic.grad_xi("ce") * symbolic.softmax_jacobian()[1])
        answer_1  # p_j: the familiar "softmax minus one-hot" rule of CE, for a class j ≠ y
        """,
        """
        assert sp.simplify(answer_1 - symbolic.grad_logit("ce", "other")) == 0, answer_1
        """,
    ),
    Exercise(
        2,
        """
        MS-focal (eq. 4) with η = 3/2, α = 1, γ = 2: compute with torch autograd the gradient of
        the summed loss with respect to the true-class logits of the batch `logits`, `target`
        above (use `get_loss("ms-focal").bind(...)` and `true_class_from_logits`), evaluate the
        printed eq. 5 (`paper.PRINTED_GRADIENTS["ms-focal"]`) at the same ξ, and give
        `answer_2 = max |printed − autograd|` over the batch.
        """,
        """
        answer_2 = ...  # a float
        """,
        """
        focal_params = {"eta": 1.5, "alpha": 1, "gamma": 2}
        focal_loss = get_loss("ms-focal").bind(**focal_params)
        (focal_grad,) = torch.autograd.grad(focal_loss(true_class_from_logits(logits, target)).sum(), logits)
        _, printed_5 = paper.PRINTED_GRADIENTS["ms-focal"]
        values = {ETA: sp.Rational(3, 2), symbolic.ALPHA: 1, symbolic.GAMMA: 2}
        printed_5_fn = sp.lambdify(XI, printed_5.subs(values), "numpy")
        answer_2 = float(np.abs(printed_5_fn(xi) - focal_grad.numpy()[rows, target]).max())
        answer_2
        """,
        """
        _, printed_5 = paper.PRINTED_GRADIENTS["ms-focal"]
        values = {ETA: sp.Rational(3, 2), symbolic.ALPHA: 1, symbolic.GAMMA: 2}
        gap = sp.lambdify(XI, (printed_5 - symbolic.grad_logit("ms-focal", eta=1.5, alpha=1, gamma=2)).subs(values))
        expected = float(np.abs(gap(xi)).max())
        assert abs(answer_2 - expected) < 1e-9 * max(1.0, expected), f"{answer_2} is not {expected}"
        """,
    ),
    Exercise(
        3,
        """
        At η = 3/2, where does the printed eq. 8 gradient vanish in (0, 1), and where does the
        true MS gradient vanish? Give `answer_3 = (printed_root, true_root)` as exact sympy
        numbers. (`symbolic.roots_in_unit_interval` finds the zeros of any expression of ξ.)
        """,
        """
        answer_3 = ...  # (printed_root, true_root)
        """,
        """
        (printed_root,) = symbolic.roots_in_unit_interval(printed.subs(ETA, sp.Rational(3, 2)))
        (true_root,) = symbolic.stationary_points("ms", eta=sp.Rational(3, 2))
        answer_3 = (printed_root.xi, true_root.xi)
        answer_3
        """,
        """
        assert isinstance(answer_3, tuple) and len(answer_3) == 2, "give a pair (printed_root, true_root)"
        (printed_expected,) = symbolic.roots_in_unit_interval(printed.subs(ETA, sp.Rational(3, 2)))
        (true_expected,) = symbolic.stationary_points("ms", eta=sp.Rational(3, 2))
        assert sp.simplify(sp.sympify(answer_3[0]) - printed_expected.xi) == 0, f"eq. 8 vanishes at {printed_expected.xi}"
        assert sp.simplify(sp.sympify(answer_3[1]) - true_expected.xi) == 0, f"MS's gradient vanishes at {true_expected.xi}"
        """,
    ),
    Md("""
        **Takeaway.** dℓ/do = dℓ/dξ · ∂ξ/∂o, with ∂ξ/∂o_true = ξ(1 − ξ) and ∂ξ/∂o_j = −ξ p_j.
        Check a derivation against autograd on the package's own loss; a printed gradient can be
        off by a factor and still lead to the right threshold, and the ledger says which.
        """),
]

# ============================================================================== lesson 3

LESSON_3 = [
    Md("""
        # Lesson 3: the η threshold

        **Learning goal.** Derive the η above which two-stationary-point CE (eq. 7, `ms`) has a
        finite stationary point, confirm it with a gradient-descent sweep over η, and predict the
        threshold of a loss the paper does not treat.

        Lesson 1 found ξ* ≈ 0.729 for η = 3/2. For small η the term is too weak to cancel the
        −1/ξ of CE anywhere in (0, 1). Where exactly does that change?
        """),
    Code("""
        %matplotlib inline
        import numpy as np
        import sympy as sp
        import matplotlib.pyplot as plt

        from msanalysis import figures, symbolic
        from msanalysis.ledger import functions as claims
        from msanalysis.losses import focal, with_stationary_term
        from msanalysis.sweep import sweep_eta
        from msanalysis.symbolic import ALPHA, ETA, XI
        """),
    Md("""
        ## 1. The argument

        dℓ/dξ is continuous on (0, 1) and tends to −∞ as ξ → 0⁺ (the −log ξ of CE). If it is
        positive as ξ → 1⁻, it must cross zero in between (intermediate value theorem). For `ms`
        that limit is affine in η, so the threshold η_c is where it crosses zero.
        """),
    Code("""
        g = symbolic.grad_xi("ms")
        at_zero, at_one = sp.limit(g, XI, 0, "+"), sp.limit(g, XI, 1, "-")
        (eta_c,) = sp.solve(at_one, ETA)
        print("dℓ/dξ → ", at_zero, "as ξ → 0⁺ and →", at_one, "as ξ → 1⁻;  η_c =", eta_c)
        assert eta_c == symbolic.eta_threshold("ms")
        """),
    Md("""
        The other direction: for η ≤ η_c there is no root. The closed form of lesson 1 shows it:
        the admissible root ξ*(η) reaches 1 exactly at η = η_c and exceeds 1 below it.
        """),
    Code("""
        root = symbolic.stationary_closed_form("ms")[1]
        print("ξ*(η) =", root, "; ξ* = 1 at η =", sp.solve(sp.Eq(root, 1), ETA))
        for value in (sp.Rational(2, 5), sp.Rational(1, 2), sp.Rational(3, 5)):
            print(f"η = {value}: ξ* = {sp.N(root.subs(ETA, value), 6)}, stationary points in (0, 1):",
                  [sp.N(p.xi, 6) for p in symbolic.stationary_points("ms", eta=value)])
        """),
    Md("""
        ## 2. Confirm it by gradient descent

        `msanalysis.sweep.sweep_eta` runs gradient descent on a one-sample problem (a positive at
        x = 1, model σ(wx + b)) for every η of a grid and several initial logits at once. A run
        converges to a finite point exactly when the loss has a finite stationary point; the
        sweep decides that with an order-preservation certificate rather than by eye (see the
        module's docstring for why "the gradient got small" is not enough near the threshold).
        """),
    Code("""
        ETA_STEP = 0.005
        sweep = sweep_eta("ms", n_eta=200, eta_step=ETA_STEP, steps=5000)
        print(f"threshold by GD: {sweep.threshold_empirical:.3f}, by sympy: {sweep.threshold_symbolic}, "
              f"agree within the grid step: {sweep.agrees}")
        assert sweep.agrees and sweep.monotone_phases

        start = int(np.argmin(np.abs(sweep.inits)))  # the run started at logit 0
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.plot(sweep.etas, sweep.z_final[:, start], label=f"final logit after {sweep.steps} steps")
        ax.fill_between(sweep.etas, 0, sweep.z_final.max(), where=sweep.certified, alpha=0.15,
                        label="certified: every run converges")
        ax.axvline(sweep.threshold_symbolic, ls=":", c="gray", label="sympy η_c")
        ax.set(xlabel="η", ylabel="final logit z"); ax.legend()
        plt.show()
        """),
    Md("""
        ## 3. The paper's Theorem 3, in the ledger

        The paper states η > 1/2 for eq. 7 (Section 5) and for the appendix's regularised CE
        (eq. 31). Lesson 1 showed that eq. 31 with 2η is eq. 7 with η, up to a constant, so the two
        thresholds cannot both be 1/2:
        """),
    Code("""
        print("η_c of centred-ce (eq. 31):", symbolic.eta_threshold("centred-ce"))
        for row in (claims.theorem3_section5(), claims.theorem3_appendix()):
            print(f"{row.id}: {row.verdict.value}: {row.derived}")
        """),
    Md("""
        The package's η phase diagram (`msanalysis.figures.figure_eta_phase`) draws ξ* against η
        for eq. 7, eq. 31 and MS-focal, with each exact threshold as a dotted line:
        """),
    Code("""
        figures.figure_eta_phase()
        """),
    Md("""
        ## 4. A loss the paper does not treat

        Section 5 adds the term to any loss of ξ; `with_stationary_term` builds that transform.
        Take the focal loss with γ = 0 and α = 1/2 (half of CE) and add the term:
        """),
    Code("""
        new_loss = with_stationary_term(focal, eta=ETA, alpha=sp.Rational(1, 2), gamma=0)
        expr = new_loss(symbolic.true_class())  # the same definition, evaluated on sympy symbols
        expr
        """),
    Exercise(
        1,
        """
        Predict the η threshold of `new_loss` with the argument of section 1 (no sweep yet) and
        give it as an exact sympy number `answer_1`.
        """,
        """
        answer_1 = ...  # an exact number
        """,
        """
        slope = sp.diff(expr, XI)
        print("dℓ/dξ → ", sp.limit(slope, XI, 0, "+"), "at 0⁺ and", sp.limit(slope, XI, 1, "-"), "at 1⁻")
        (answer_1,) = sp.solve(sp.limit(slope, XI, 1, "-"), ETA)
        answer_1  # half the CE weight, half the threshold
        """,
        """
        # new_loss is the registry's MS-focal at α = 1/2, γ = 0, whose threshold sympy derives:
        assert sp.simplify(expr - symbolic.loss("ms-focal", alpha=sp.Rational(1, 2), gamma=0)) == 0
        expected = symbolic.eta_threshold("ms-focal", alpha=sp.Rational(1, 2), gamma=0)
        assert sp.sympify(answer_1) == expected, f"{answer_1} is not {expected}"
        """,
    ),
    Exercise(
        2,
        """
        Confirm your prediction by gradient descent: run `sweep_eta` for that loss (it is
        `"ms-focal"` with `alpha=0.5, gamma=0`) on the grid of section 2 (200 values, step
        `ETA_STEP`, 5000 steps) and give the threshold it finds as the float `answer_2`.
        """,
        """
        answer_2 = ...  # a float
        """,
        """
        new_sweep = sweep_eta("ms-focal", alpha=0.5, gamma=0, n_eta=200, eta_step=ETA_STEP, steps=5000)
        answer_2 = new_sweep.threshold_empirical
        answer_2
        """,
        """
        expected = float(symbolic.eta_threshold("ms-focal", alpha=sp.Rational(1, 2), gamma=0))
        assert abs(answer_2 - expected) <= ETA_STEP * (1 + 1e-9), f"{answer_2} is not within {ETA_STEP} of {expected}"
        """,
    ),
    Exercise(
        3,
        """
        Generalise: give `answer_3 = (threshold_gamma0, threshold_gamma2)`, where
        `threshold_gamma0` is the threshold of focal(α, γ = 0) + term as an expression of `ALPHA`,
        and `threshold_gamma2` the threshold for γ = 2, α = 1. Why is the second one what it is?
        """,
        """
        answer_3 = ...  # (expression of ALPHA, number)
        """,
        """
        def threshold(base_params):
            slope = sp.diff(with_stationary_term(focal, eta=ETA, **base_params)(symbolic.true_class()), XI)
            at_one = sp.limit(slope, XI, 1, "-")
            roots = [r for r in sp.solve(at_one, ETA) if r.is_nonnegative is not False]
            return roots[0] if roots else sp.Integer(0)  # at_one > 0 for every η > 0

        # γ > 0: focal's (1 − ξ)^γ factor makes its slope vanish at ξ → 1, so the term's 2η wins
        # for any η > 0: the threshold is 0.
        answer_3 = (threshold({"alpha": ALPHA, "gamma": 0}), threshold({"alpha": 1, "gamma": 2}))
        answer_3
        """,
        """
        assert isinstance(answer_3, tuple) and len(answer_3) == 2, "give a pair (expression of ALPHA, number)"
        for alpha in (sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(3, 4), 1):
            expected = symbolic.eta_threshold("ms-focal", alpha=alpha, gamma=0)
            assert sp.sympify(answer_3[0]).subs(ALPHA, alpha) == expected, f"α = {alpha}: expected {expected}"
        expected = symbolic.eta_threshold("ms-focal", alpha=1, gamma=2)
        assert sp.sympify(answer_3[1]) == expected, f"γ = 2: expected {expected}"
        """,
    ),
    Md("""
        **Takeaway.** The threshold is where lim_{ξ→1⁻} dℓ/dξ changes sign: 2η − α for a CE part
        of weight α, so η_c = α/2 (1/2 for eq. 7, 1 for eq. 31 whose term is half as strong), and
        0 whenever the base loss's slope already vanishes at ξ → 1 (focal with γ > 0).
        """),
]

# ============================================================================== lesson 4

LESSON_4 = [
    Md("""
        # Lesson 4: where gradient descent goes

        **Learning goal.** Watch full-batch gradient descent on small separable data: with CE the
        direction of w converges to the max-margin separator while |w| grows like log t; with MS
        it stops at a finite stationary point. Then see when that finite point centres the
        decision boundary (Theorem 2's symmetric data) and when it does not.

        `msanalysis.simulate.simulate` runs GD from w = 0, b = 0 on a named data set with the
        model σ(w·x + b), the loss summed over samples, and its gradient taken from
        `symbolic.grad_logit` (lambdified) through the chain rule of the linear score. It
        returns the trajectory and what it shows: convergence, the boundary against the
        hard-margin SVM (the max-margin separator, solved by scipy), the fit |w| ≈ a + c log t.
        """),
    Code("""
        %matplotlib inline
        import numpy as np
        import sympy as sp
        import matplotlib.pyplot as plt

        from msanalysis import symbolic
        from msanalysis.ledger import functions as claims
        from msanalysis.figures.trajectories import figure_trajectories
        from msanalysis.simulate import get_dataset, max_margin, simulate

        ETA_VALUE = 1.5
        """),
    Md("""
        ## 1. CE on the two segments of Figure 1

        Two parallel segments, offset so that symmetry alone does not fix the boundary's
        direction. The dashed line is the max-margin separator.
        """),
    Code("""
        segments = get_dataset("segments")
        svm = max_margin(segments.x, segments.y)
        ce = simulate("segments", "ce", steps=20000)

        fig, (ax_data, ax_angle, ax_norm) = plt.subplots(1, 3, figsize=(13, 3.4))
        for label, marker in ((1, "o"), (-1, "x")):
            pts = segments.x[segments.y == label]
            ax_data.scatter(pts[:, 0], pts[:, 1], marker=marker, label=f"y = {label:+d}")
        grid = np.linspace(-3.5, 3.5, 2)
        for w, b, style, name in ((svm.w, svm.b, "--", "max margin"), (np.array(ce.w), ce.b, "-", "CE, t = 20000")):
            ax_data.plot(grid, -(w[0] * grid + b) / w[1], style, label=name)
        ax_data.set(title="Figure 1's segments", ylim=(-2, 2)); ax_data.legend(fontsize=8)
        steps = np.array(ce.trajectory["step"])
        ax_angle.semilogx(steps, ce.trajectory["angle_deg"])
        ax_angle.set(xlabel="step t", ylabel="angle(w, SVM normal) [deg]", title="direction")
        ax_norm.semilogx(steps, ce.trajectory["w_norm"])
        ax_norm.set(xlabel="step t", ylabel="|w|", title=f"|w| ≈ a + {ce.w_log_slope:.2f} log t")
        plt.tight_layout(); plt.show()
        print(f"converged: {ce.converged}; final angle {ce.angle_deg:.2f}°; |w| log-slope {ce.w_log_slope:.3f}")
        """),
    Md("""
        CE never converges: |w| grows without bound, about log t (a straight line against log t),
        while the angle to the max-margin normal keeps shrinking, slowly (like 1/log t). This is
        Soudry et al. (2018): on separable data GD with CE converges *in direction* to the
        max-margin separator. The paper's Theorem 1 says CE does not reach the robust boundary;
        the ledger row shows why that reading fails:
        """),
    Code("""
        row = claims.theorem1_boundary()
        print(f"{row.id}: {row.verdict.value}\\n  paper: {row.paper}\\n  derived: {row.derived}")
        """),
    Md("""
        ## 2. MS on Theorem 2's data: a finite stationary point, centred

        Positives at x = 1, negatives at x = −1. MS (η = 3/2) converges: |w| stops, every sample
        sits at the ξ* of lesson 1, and the boundary is the max-margin one, x = 0.
        """),
    Code("""
        ms_sym = simulate("paper-4pt", "ms", {"eta": ETA_VALUE})
        ce_sym = simulate("paper-4pt", "ce")
        for r in (ms_sym, ce_sym):
            print(f"{r.loss}: converged {r.converged}, w = {r.w[0]:.4f}, boundary {r.boundary:.2e} "
                  f"(max margin {r.max_margin_boundary:.2e}), ξ of the samples {np.round(r.xi_final, 6)}")
        print("ξ* of ms at η = 3/2:", ms_sym.xi_star, "| GD end point matches sympy's stationary point:",
              ms_sym.matches_symbolic)
        assert ms_sym.converged and ms_sym.at_sample_stationary and not ce_sym.converged
        """),
    Md("""
        ## 3. When MS does not centre the boundary

        Add one positive farther out: positives at 1 and 3, a negative at −1. The max-margin
        boundary is still x = 0 (it depends only on the closest points). MS wants *every* sample
        at ξ*, which two parameters (w, b) cannot give three distinct points; its stationary
        point balances the pulls instead, and the boundary moves.
        """),
    Code("""
        ms_asym = simulate("asymmetric", "ms", {"eta": ETA_VALUE})
        ce_asym = simulate("asymmetric", "ce")
        for r in (ms_asym, ce_asym):
            print(f"{r.loss}: converged {r.converged}, boundary {r.boundary:+.6f}, max margin {r.max_margin_boundary:+.1e}")
        row = claims.theorem2_general()
        print(f"\\n{row.id}: {row.verdict.value}\\n  derived: {row.derived}")
        """),
    Md("""
        `msanalysis.figures.trajectories.figure_trajectories` draws these four runs: |w| and the
        boundary against the step t.
        """),
    Code("""
        figure_trajectories([ms_sym, ce_sym, ms_asym, ce_asym])
        """),
    Md("""
        So Theorem 2's centring is a property of its symmetric two-point data, not of MS: on the
        asymmetric set MS converges to a boundary 0.196 off the centre, while CE (which never
        converges) keeps approaching the max-margin one.
        """),
    Exercise(
        1,
        """
        Find MS's stationary point on the asymmetric data with sympy instead of gradient descent.
        `symbolic.linear_system("ms", ((1, 1), (3, 1), (-1, 0)), eta=ETA_VALUE)` gives the summed
        loss of points (x, label) with its gradients `grad_w`, `grad_b` in the symbols
        `symbolic.W`, `symbolic.B` and the `boundary` as an expression of them. Solve the
        gradient system with `sp.nsolve` and give the boundary as the float `answer_1`.
        """,
        """
        answer_1 = ...  # a float
        """,
        """
        system = symbolic.linear_system("ms", ((1, 1), (3, 1), (-1, 0)), eta=ETA_VALUE)
        w_star, b_star = sp.nsolve([system.grad_w, system.grad_b], [symbolic.W, symbolic.B], [0.5, 0.0], prec=30)
        answer_1 = float(system.boundary.subs({symbolic.W: w_star, symbolic.B: b_star}))
        answer_1
        """,
        """
        assert abs(answer_1 - ms_asym.boundary) < 1e-8, f"{answer_1}; gradient descent ended at {ms_asym.boundary}"
        """,
    ),
    Exercise(
        2,
        """
        Imbalanced data: five positives at x = 1 and one negative at x = −1 (data set
        `"imbalanced"`). Does MS (η = 3/2) centre the boundary there? Give the boundary it
        converges to as the float `answer_2`, and explain in a comment why the imbalance does or
        does not matter.
        """,
        """
        answer_2 = ...  # a float
        """,
        """
        imbalanced = simulate("imbalanced", "ms", {"eta": ETA_VALUE})
        # Only two distinct positions: (w, b) = (logit ξ*, 0) puts every sample at ξ*, where each
        # sample's gradient is zero on its own, so the counts do not matter: centred at x = 0.
        answer_2 = imbalanced.boundary
        print(imbalanced.converged, imbalanced.at_sample_stationary)
        answer_2
        """,
        """
        # At (w, b) = (logit ξ*, 0) every sample has ξ = ξ*: check that this zeroes sympy's
        # gradient of the imbalanced loss, and that its boundary is the answer.
        xi_star = symbolic.stationary_points("ms", eta=ETA_VALUE)[0].xi
        system = symbolic.linear_system("ms", ((1, 1),) * 5 + ((-1, 0),), eta=ETA_VALUE)
        at = {symbolic.W: symbolic.logit(xi_star), symbolic.B: 0}
        assert all(abs(sp.N(g.subs(at), 50)) < 1e-40 for g in (system.grad_w, system.grad_b))
        expected = float(system.boundary.subs(at))
        assert abs(answer_2 - expected) < 1e-8, f"{answer_2} is not {expected}"
        """,
    ),
    Exercise(
        3,
        """
        The paper's proofs use the score 2(w·x + b) − 1 instead of w·x + b (`simulate(...,
        parametrisation="odd")`). Predict c in |w| ≈ a + c log t for CE on Theorem 2's data with
        that score (section 2 measured c ≈ 1 with the plain score) and give it as `answer_3`.
        """,
        """
        answer_3 = ...  # a number
        """,
        """
        # With b at 1/2 every sample's logit is 2w, the loss 4 log(1 + e^(−2w)), so
        # dw/dt ∝ e^(−2w), e^(2w) ∝ t and w ≈ (1/2) log t.
        answer_3 = sp.Rational(1, 2)
        answer_3
        """,
        """
        odd = simulate("paper-4pt", "ce", parametrisation="odd")
        assert not odd.converged and abs(float(answer_3) - odd.w_log_slope) < 0.05, f"measured slope {odd.w_log_slope:.3f}"
        """,
    ),
    Md("""
        **Takeaway.** CE's iterates run off to infinity along the max-margin direction; MS's stop
        at a finite point where every sample would like ξ = ξ*. That point is the max-margin
        boundary when the data let every sample reach ξ* at once (two distinct positions), and
        generally is not otherwise.
        """),
]

# ============================================================================== lesson 5

LESSON_5 = [
    Md("""
        # Lesson 5: does it make a network robust?

        **Learning goal.** Train the same small CNN on Fashion-MNIST with CE and with MS (eq. 7,
        η = 3/2), attack both with FGSM and PGD, decide whether a difference in robust accuracy
        is larger than the noise of the test sample, and read the gradient-masking checks
        together before believing any robustness number.

        Everything runs on a CPU. The sizes below give a run of a few minutes on a laptop;
        lower them for a quicker look (the test of this notebook runs it with 2000 images and
        one epoch, where the numbers mean little). Checkpoints are kept in `RUN_DIR`, so
        re-running the notebook reuses them instead of training again.
        """),
    Code(
        """
        N_TRAIN = 60000    # training images (Fashion-MNIST has 60000)
        EPOCHS = 3
        N_TEST = 500       # test images to evaluate and attack
        N_AUDIT = 200      # of those, how many the gradient-masking audit attacks (its cost)
        ATTACK_STEPS = 40  # PGD steps (Section 4.2 of the paper uses 40)
        RUN_DIR = "runs"   # checkpoints live here
        """,
        tags=("parameters",),
    ),
    Code("""
        %matplotlib inline
        from pathlib import Path

        import torch
        import matplotlib.pyplot as plt

        from msanalysis import symbolic
        from msanalysis.attacks import FGSM, PGD, family_objective
        from msanalysis.attacks.evaluate import correct_under, paired_noise_margin
        from msanalysis.evaluation.audit import AuditSettings, gradient_statistics, run_audit, summarise
        from msanalysis.training.data import load_dataset, to_float
        from msanalysis.training.train import TrainConfig, fit, load_checkpoint

        ETA = 1.5  # the paper's η (Figure 5)
        """),
    Md("""
        ## 1. Train with CE and with MS

        `fit` trains a configuration into a folder (Adam, seeded, resumable); `load_checkpoint`
        rebuilds the trained network. Both models see the same images in the same order.
        """),
    Code("""
        models = {}
        for loss, params in {"ce": {}, "ms": {"eta": ETA}}.items():
            config = TrainConfig(dataset="fashion-mnist", model="small-cnn", loss=loss, loss_params=params,
                                 epochs=EPOCHS, limit_train=N_TRAIN, limit_test=N_TEST, seed=0)
            out = Path(RUN_DIR) / f"{loss}-train{N_TRAIN}-test{N_TEST}"
            fit(config, out, progress=False)
            models[loss], meta = load_checkpoint(out / "last.pt")
            print(f"{loss}: {meta['epoch']} epochs, test accuracy {meta['metrics'][-1]['test_acc']:.4f}")

        test = load_dataset("fashion-mnist", "test", limit=N_TEST)
        images, labels = to_float(test.images), test.labels
        """),
    Md("""
        ## 2. Attack both

        FGSM takes one signed-gradient step of size ε; PGD takes `ATTACK_STEPS` steps of 2/255
        from a random start and projects back into the ε-ball. The paper's settings: FGSM with
        ε = 0.007, PGD with ε = 8/255. `correct_under` says, per image, whether the model is right
        both clean and attacked.
        """),
    Code("""
        attacks = {
            "FGSM ε=0.007": lambda m: FGSM(m, eps=0.007),
            "FGSM ε=8/255": lambda m: FGSM(m, eps=8 / 255),
            "PGD ε=8/255": lambda m: PGD(m, eps=8 / 255, steps=ATTACK_STEPS, seed=0),
        }
        correct = {
            loss: {"clean": correct_under(m, images, labels),
                   **{name: correct_under(m, images, labels, make(m)) for name, make in attacks.items()}}
            for loss, m in models.items()
        }
        print(f"{'':14}" + "".join(f"{loss:>8}" for loss in models))
        for name in correct["ce"]:
            print(f"{name:14}" + "".join(f"{correct[loss][name].float().mean().item():8.3f}" for loss in models))
        """),
    Md("""
        Both models are tested on the same images, so a difference in accuracy is a mean of
        paired differences; `paired_noise_margin` gives its 95% half-width. A gain smaller than
        that margin is not evidence.
        """),
    Exercise(
        1,
        """
        Under PGD, what is MS's gain in robust accuracy over CE (MS minus CE, as a fraction),
        and does it exceed the paired 95% noise margin? Give `answer_1 = (gain, survives)`.
        """,
        """
        answer_1 = ...  # (float, bool)
        """,
        """
        ms_pgd, ce_pgd = correct["ms"]["PGD ε=8/255"], correct["ce"]["PGD ε=8/255"]
        gain = (ms_pgd.float().mean() - ce_pgd.float().mean()).item()
        margin = paired_noise_margin(ms_pgd, ce_pgd)
        answer_1 = (gain, gain > margin)
        print(f"gain {gain:+.4f}, noise margin {margin:.4f}")
        answer_1
        """,
        """
        assert isinstance(answer_1, tuple) and len(answer_1) == 2, "give a pair (gain, survives)"
        a, b = correct["ms"]["PGD ε=8/255"], correct["ce"]["PGD ε=8/255"]
        expected_gain = (a.float().mean() - b.float().mean()).item()
        assert abs(answer_1[0] - expected_gain) < 1e-6, f"the gain is {expected_gain}"
        assert answer_1[1] == (expected_gain > paired_noise_margin(a, b)), "compare the gain with paired_noise_margin"
        """,
    ),
    Md("""
        ## 3. Could the numbers be lying? Gradient masking

        An attack that follows gradients fails when the gradients are useless (zero, or a
        saturated softmax), and a model can then *look* robust without being so (Carlini et al.
        2019; Croce & Hein 2020). The cheap signs first: exactly-zero input gradients and
        saturated softmax outputs at the clean images.
        """),
    Code("""
        for loss, m in models.items():
            stats = gradient_statistics(m, images, labels)
            print(loss, {k: round(v, 4) for k, v in stats.items()})
        """),
    Md("""
        Then the audit: the MS model against the CE model as reference, under stronger and
        different attacks: more steps, random restarts, a margin objective, APGD with CE and DLR
        losses, a black-box attack (Square, when torchattacks is installed), a transfer attack
        from the CE model, and an ε sweep up to the whole image box, where any working attack
        must reach 0%. Each check is decided from the numbers, with the same noise margins. (It
        runs on the first `N_AUDIT` test images, so its margins are wider than section 2's.)
        """),
    Code("""
        settings = AuditSettings(steps=ATTACK_STEPS, long_steps=2 * ATTACK_STEPS, restarts=2,
                                 apgd_steps=ATTACK_STEPS, square_queries=5 * ATTACK_STEPS,
                                 sweep=(2, 8, 32, 255), sweep_steps=max(ATTACK_STEPS // 2, 2))
        run = run_audit(models["ms"], images[:N_AUDIT], labels[:N_AUDIT], settings, reference=models["ce"])
        summary = summarise(run, settings)

        print(f"{'attack':34} {'MS':>7} {'CE':>7} {'gain':>7} {'margin':>7}  survives")
        for row in summary["rows"]:
            reference = f"{row['reference']:7.3f}" if "reference" in row else " " * 7
            gain = f"{row['gain']:+7.3f} {row['noise_margin']:7.3f}  {row['gain_survives']}" if "gain" in row else ""
            print(f"{row['attack']:34} {row['model']:7.3f} {reference} {gain}")
        for role, checks in summary["checks"].items():
            print(f"\\nchecks of the {'MS model' if role == 'model' else 'CE reference'}:")
            for check in checks:
                print(f"  [{'pass' if check['passed'] else 'FAIL'}] {check['check']}: {check['numbers']}")
        print()
        for attack, sentence in summary["verdict"].items():
            print(f"{attack}: {sentence}")
        """),
    Code("""
        sweep = [f"sweep-eps{e}/255" for e in settings.sweep]
        plt.figure(figsize=(5, 3.2))
        for role, name in (("model", "ms"), ("reference", "ce")):
            plt.plot([e / 255 for e in settings.sweep], [summary["accuracy"][role][k] for k in sweep], "o-", label=name)
        plt.xscale("log"); plt.xlabel("ε"); plt.ylabel("robust accuracy (PGD)"); plt.legend()
        plt.title("accuracy must fall to 0 as ε grows")
        plt.show()
        """),
    Md("""
        Read the table and the checks together: a gain that only shows under one attack, a
        model that gets *more* accurate with more attack steps, or a white-box attack beaten by
        a black-box one would each point to masking rather than robustness.
        """),
    Exercise(
        2,
        """
        An attack ascends an objective. Attacking the MS model with its own training loss
        (`family_objective("ms", eta=ETA)`) instead of CE is tempting but misleading: by lesson 1,
        dℓ/dξ > 0 for ξ > ξ*, so for an image whose true-class probability ξ is already above
        ξ*, ascending the MS loss *raises* ξ, away from the boundary. Which fraction of the test
        images have ξ > ξ* under the MS model? Give it as the float `answer_2` (use
        `symbolic.stationary_points` for ξ*), then compare PGD's accuracy with the two objectives.
        """,
        """
        answer_2 = ...  # a float in [0, 1]
        """,
        """
        xi_star = float(symbolic.stationary_points("ms", eta=ETA)[0].xi)
        with torch.no_grad():
            xi = torch.softmax(models["ms"](images), dim=1).gather(1, labels[:, None]).squeeze(1)
        answer_2 = (xi > xi_star).float().mean().item()
        own = correct_under(models["ms"], images, labels,
                            PGD(models["ms"], eps=8 / 255, steps=ATTACK_STEPS, seed=0, objective=family_objective("ms", eta=ETA)))
        print(f"ξ* = {xi_star:.4f}; fraction above: {answer_2:.3f}; PGD accuracy with the MS objective "
              f"{own.float().mean():.3f} vs CE objective {correct['ms']['PGD ε=8/255'].float().mean():.3f}")
        answer_2
        """,
        """
        (point,) = symbolic.stationary_points("ms", eta=ETA)
        with torch.no_grad():
            probs = torch.softmax(models["ms"](images), dim=1)
        expected = (probs[torch.arange(len(labels)), labels] > float(point.xi)).float().mean().item()
        assert abs(answer_2 - expected) < 1e-6, f"the fraction is {expected}"
        """,
    ),
    Exercise(
        3,
        """
        From the audit summary: list the names of the checks the MS model fails (sorted), and
        say whether its gain over CE survives the worst case over all attacks. Give
        `answer_3 = (failed_checks, worst_case_gain_survives)`.
        """,
        """
        answer_3 = ...  # (sorted list of str, bool)
        """,
        """
        failed = sorted(c["check"] for c in summary["checks"]["model"] if not c["passed"])
        worst = next(row for row in summary["rows"] if row["attack"] == "worst-case")
        answer_3 = (failed, worst["gain_survives"])
        answer_3
        """,
        """
        assert isinstance(answer_3, tuple) and len(answer_3) == 2, "give a pair (failed_checks, survives)"
        expected_failed = sorted(c["check"] for c in summary["checks"]["model"] if not c["passed"])
        (worst,) = [row for row in summary["rows"] if row["attack"] == "worst-case"]
        assert list(answer_3[0]) == expected_failed, f"the failed checks are {expected_failed}"
        assert answer_3[1] == worst["gain_survives"], "see the 'worst-case' row"
        """,
    ),
    Md("""
        **Takeaway.** A robustness claim needs a difference larger than the test sample's noise,
        under the strongest of several attacks, with checks that rule out masked gradients. Run
        the notebook at full size before drawing conclusions about MS; the paper's Tables 1-2
        and the `audit` command (`python -m msanalysis audit --help`) do the same on larger
        networks.
        """),
]

LESSONS: dict[str, list] = {
    "01-stationary-points": LESSON_1,
    "02-chain-rule-through-softmax": LESSON_2,
    "03-eta-threshold": LESSON_3,
    "04-where-gradient-descent-goes": LESSON_4,
    "05-robustness": LESSON_5,
}


def notebooks() -> dict[Path, NotebookNode]:
    """Every lesson notebook and its solutions notebook, by the path it is written to."""
    out = {}
    for stem, items in LESSONS.items():
        out[HERE / f"{stem}.ipynb"] = notebook(stem, items, solutions=False)
        out[SOLUTIONS / f"{stem}-solutions.ipynb"] = notebook(stem, items, solutions=True)
    return out


def main() -> int:
    SOLUTIONS.mkdir(exist_ok=True)
    for path, nb in notebooks().items():
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        print(path.relative_to(HERE.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
