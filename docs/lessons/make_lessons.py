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
            cells.append(nbformat.v4.new_markdown_cell(f"### Exercise {ex.number}\n\n{_clean(ex.prompt)}"))
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
        import numpy as np
        import sympy as sp
        import torch
        import matplotlib.pyplot as plt

        from msanalysis import claims, paper, symbolic
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
    Code("""
        grid = np.linspace(0.01, 0.999, 300)
        plt.figure(figsize=(5, 3.4))
        plt.plot(grid, true_fn(grid), label="derived (= autograd)")
        plt.plot(grid, printed_fn(grid), "--", label=f"printed {eq}")
        plt.axhline(0, c="k", lw=0.8)
        plt.xlabel("ξ"); plt.ylabel("dℓ/do_true"); plt.title("MS, η = 3/2"); plt.legend()
        plt.show()
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

LESSONS: dict[str, list] = {
    "01-stationary-points": LESSON_1,
    "02-chain-rule-through-softmax": LESSON_2,
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
