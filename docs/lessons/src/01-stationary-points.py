# %% [markdown]
# # Lesson 1: stationary points of a loss of ξ
#
# **Paper.** *Multi-stationary point losses for robust model*, anonymous submission to ICLR 2023
# on OpenReview (withdrawn); [arXiv:2302.09575](https://arxiv.org/abs/2302.09575). The package
# `msanalysis` re-derives its claims; where the paper is wrong, it says so.
#
# **Uses.** Eq. 1 (ξ, the softmax probability of the true class), eq. 7 (the two-stationary-point
# CE, `ms` in the package), eq. 4 (MS-focal), eq. 31 of the appendix (a centred variant), the
# printed eq. 8, and Figure 5's η = 3/2.
#
# **Prerequisites.** Derivatives of log and of polynomials, solving a quadratic, basic Python;
# sympy at the level of `sp.Symbol`, `sp.log`, `sp.sqrt`. **Time.** About 45 minutes.
#
# **Learning goal.** Derive ℓ(ξ) and dℓ/dξ of eq. 7 by hand, find and classify its stationary
# points in (0, 1), and explain why cross-entropy (CE) has none there while eq. 7 has one.
#
# Every loss of the paper is a function of ξ. The paper adds η(ξ² + (1 − ξ)²) to a loss of ξ.
# You derive first; then you compare with `msanalysis.symbolic`, which turns the package's
# single definition of each loss (`msanalysis.losses`) into sympy expressions.

# %%
import sys

sys.path.insert(0, "..")  # the solutions notebooks find lesson_checks.py one folder up

import lesson_checks as checks
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from scipy.optimize import brentq

from msanalysis import losses, paper, symbolic
from msanalysis.symbolic import ETA, XI

ETA_VALUE = sp.nsimplify(losses.ETA.default)  # the paper's η = 3/2 (Figure 5)

# %% [markdown]
# ## 1. Derive the loss and its derivative
#
# CE of the true class is −log ξ. Eq. 7 adds the paper's term with weight η.
#
# ### Exercise 1
#
# Write eq. 7's ℓ(ξ) in LaTeX in the markdown cell below (double-click it), then as a sympy
# expression `answer_1` of the symbols `XI` (ξ) and `ETA` (η).

# %% [markdown]
# *Your derivation (LaTeX):*
# ### BEGIN SOLUTION
# $$\ell(\xi) = -\log \xi + \eta\left(\xi^2 + (1 - \xi)^2\right)$$
# ### END SOLUTION

# %%
answer_1 = ...  # a sympy expression of XI and ETA
### BEGIN SOLUTION
answer_1 = -sp.log(XI) + ETA * (XI**2 + (1 - XI) ** 2)
answer_1
### END SOLUTION

# %% tags=["check"]
# Check exercise 1
term = ETA * (XI**2 + (1 - XI) ** 2)
if checks.answered(1, answer_1):
    checks.exact(
        answer_1,
        symbolic.loss("ms"),
        mistakes=[
            (-sp.log(XI), "this is CE alone: eq. 7 adds the term η(ξ² + (1 − ξ)²)"),
            (term, "this is the term alone: eq. 7 adds it to CE, −log ξ"),
            (-sp.log(1 - XI) + term, "CE is −log of the true-class probability ξ, not of 1 − ξ"),
            (sp.log(XI) + term, "CE is −log ξ (positive on (0, 1)): check its sign"),
        ],
    )
    checks.correct(1)

# %% tags=["mistakes"]
mistakes_1 = [
    (-sp.log(XI), "CE alone"),
    (sp.log(XI) - ETA * (XI**2 + (1 - XI) ** 2), "wrong sign"),
    ("-log(xi) + eta*(xi**2 + (1 - xi)**2)", "got a string"),
    (-sp.log(XI) + 1.5 * (XI**2 + (1 - XI) ** 2), "not a float"),
    (-sp.log(XI) + sp.Rational(3, 2) * (XI**2 + (1 - XI) ** 2), "does not"),
    (-sp.log(1 - XI) + ETA * (XI**2 + (1 - XI) ** 2), "not of 1 − ξ"),
]

# %% [markdown]
# ### Exercise 2
#
# Differentiate by hand: write dℓ/dξ in LaTeX below, then type it (do not call `sp.diff`) as
# `answer_2`.

# %% [markdown]
# *Your derivation (LaTeX):*
# ### BEGIN SOLUTION
# $$\frac{d\ell}{d\xi} = -\frac{1}{\xi} + \eta\,(2\xi - 2(1 - \xi)) = -\frac{1}{\xi}
# + 2\eta(2\xi - 1)$$
# ### END SOLUTION

# %%
answer_2 = ...  # a sympy expression of XI and ETA
### BEGIN SOLUTION
answer_2 = -1 / XI + 2 * ETA * (2 * XI - 1)
answer_2
### END SOLUTION

# %% tags=["check"]
# Check exercise 2
if checks.answered(2, answer_2):
    checks.exact(
        answer_2,
        symbolic.grad_xi("ms"),
        mistakes=[
            (paper.PRINTED["eq. 8"], "this is the printed eq. 8, not the derivative in ξ"),
            (symbolic.grad_logit("ms"), "this is dℓ/do, the gradient in the logit (lesson 2)"),
            (symbolic.loss("ms"), "this is ℓ itself, not its derivative"),
            (1 / XI + 2 * ETA * (2 * XI - 1), "the derivative of −log ξ is −1/ξ: check its sign"),
            (-1 / XI + 2 * ETA, "d/dξ (1 − ξ)² = −2(1 − ξ) (chain rule): check that sign"),
        ],
    )
    checks.correct(2)

# %% tags=["mistakes"]
mistakes_2 = [
    (paper.PRINTED["eq. 8"], "printed eq. 8"),
    (symbolic.grad_logit("ms"), "gradient in the logit"),
    (symbolic.loss("ms"), "not its derivative"),
    (1 / XI - 2 * ETA * (2 * XI - 1), "wrong sign"),
    (-1 / XI + 2 * ETA, "chain rule"),
    ("-1/xi + 2*eta*(2*xi - 1)", "got a string"),
    (-1 / XI + 2 * ETA * (2 * XI - 1) + 1, "additive constant"),
]

# %% [markdown]
# ## 2. Compare with the package
#
# `symbolic.loss` and `symbolic.grad_xi` derive the same two expressions from the package's one
# definition of each loss (hyper-parameters you do not give stay symbols). CE's derivative is
# −1/ξ: negative everywhere on (0, 1), never zero.

# %%
ce, ms = symbolic.loss("ce"), symbolic.loss("ms")
print("ℓ_CE =", ce, "   dℓ_CE/dξ =", symbolic.grad_xi("ce"))
print("ℓ_MS =", ms, "   dℓ_MS/dξ =", sp.factor(symbolic.grad_xi("ms")))

# %% [markdown]
# ## 3. Stationary points
#
# A stationary point is a root of dℓ/dξ in (0, 1). Multiply −1/ξ + 2η(2ξ − 1) = 0 by ξ > 0:
# a quadratic 4ηξ² − 2ηξ − 1 = 0 with two roots, one on each side of 0 (their product is
# −1/(4η) < 0).
#
# ### Exercise 3
#
# Solve the quadratic for η = 2 by hand and give the root that lies in (0, 1) as an exact sympy
# number `answer_3` (`sp.sqrt`, `sp.Rational`).

# %%
answer_3 = ...  # an exact sympy number
### BEGIN SOLUTION
# 8ξ² − 4ξ − 1 = 0: ξ = (4 ± √(16 + 32)) / 16 = (1 ± √3) / 4; the minus root is negative.
answer_3 = (1 + sp.sqrt(3)) / 4
answer_3
### END SOLUTION

# %% tags=["check"]
# Check exercise 3
(point,) = symbolic.stationary_points("ms", eta=2)
negative_root, _ = (root.subs(ETA, 2) for root in symbolic.stationary_closed_form("ms"))
(printed_root,) = symbolic.roots_in_unit_interval(paper.PRINTED["eq. 8"].subs(ETA, 2))
if checks.answered(3, answer_3):
    checks.exact(
        answer_3,
        point.xi,
        interval=(0, 1),
        mistakes=[
            (negative_root, "not in (0, 1): you kept the negative root"),
            (printed_root.xi, "this is where the printed eq. 8 vanishes, not dℓ/dξ"),
        ],
    )
    checks.correct(3)

# %% tags=["mistakes"]
mistakes_3 = [
    ((1 - sp.sqrt(3)) / 4, "you kept the negative root"),
    (0.6830127, "not a float"),
    (-(1 + sp.sqrt(3)) / 4, "not in (0, 1)"),
    ("(1 + sqrt(3))/4", "got a string"),
    (printed_root.xi, "printed eq. 8"),
    ((1 + sp.sqrt(3)) / 4 + ETA, "contains eta"),
    ((1 + sp.sqrt(3)) / 5, "not what msanalysis derives"),
]

# %% [markdown]
# `symbolic.stationary_points` returns every root of dℓ/dξ in (0, 1) with its kind (minimum or
# maximum, from the sign of d²ℓ/dξ²); the package guarantees that none is missed or counted
# twice, exactly (as sympy numbers) when dℓ/dξ is rational, as here. At the paper's η = 3/2:

# %%
points = symbolic.stationary_points("ms", eta=ETA_VALUE)
xi_star = points[0].xi
print(f"ξ* = {xi_star} ≈ {float(xi_star):.6f}, a {points[0].kind}")
print("CE's stationary points in (0, 1):", symbolic.stationary_points("ce"))
print("closed form for every η:", symbolic.stationary_closed_form("ms"))

# %% [markdown]
# ## 4. Plot them
#
# `sympy.lambdify` turns the package's expressions into numpy functions; the plots draw those.
#
# **What you should see.** Left: CE's loss falls all the way to ξ = 1, while eq. 7's has its
# minimum at ξ* (dotted). Right: CE's derivative stays below zero; eq. 7's crosses zero at ξ*,
# from below (a minimum).

# %%
xi = np.linspace(0.02, 0.995, 400)
fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
for name, params in [("ce", {}), ("ms", {"eta": ETA_VALUE})]:
    label = "CE" if name == "ce" else "eq. 7 (ms), η = 3/2"
    loss_fn = sp.lambdify(XI, symbolic.loss(name, **params), "numpy")
    grad_fn = sp.lambdify(XI, symbolic.grad_xi(name, **params), "numpy")
    ax_loss.plot(xi, loss_fn(xi), label=label)
    ax_grad.plot(xi, grad_fn(xi), label=label)
for ax in (ax_loss, ax_grad):
    ax.axvline(float(xi_star), ls=":", c="gray", label="ξ* of eq. 7")
ax_grad.axhline(0, c="k", lw=0.8)
ax_grad.set_ylim(-10, 5)
ax_loss.set(xlabel="ξ (true-class probability)", ylabel="ℓ(ξ)", title="loss")
ax_grad.set(xlabel="ξ (true-class probability)", ylabel="dℓ/dξ", title="derivative in ξ")
handles, labels = ax_grad.get_legend_handles_labels()
fig.legend(handles, labels, loc="outside lower center", ncols=3)
plt.show()

# %% [markdown]
# ## 5. A centred variant and MS-focal
#
# ### Exercise 4
#
# The appendix's regularised CE (eq. 31, `centred-ce`) adds η(ξ − 1/2)² instead. Show that
# `centred-ce` with coefficient 2η and `ms` with coefficient η differ by a constant (no ξ in
# it): give that difference, `ms` minus `centred-ce`, as `answer_4`, an expression of `ETA`.

# %%
answer_4 = ...  # an expression of ETA, free of XI
### BEGIN SOLUTION
# η(ξ² + (1 − ξ)²) = 2η(ξ − 1/2)² + η/2: expand both squares.
answer_4 = ETA / 2
answer_4
### END SOLUTION

# %% tags=["check"]
# Check exercise 4
difference = symbolic.loss("ms", eta=ETA) - symbolic.loss("centred-ce", eta=2 * ETA)
if checks.answered(4, answer_4):
    checks.exact(
        answer_4,
        sp.simplify(difference),
        mistakes=[(-difference, "this is centred-ce minus ms: the exercise asks ms minus it")],
    )
    checks.correct(4)

# %% tags=["mistakes"]
mistakes_4 = [
    (-ETA / 2, "centred-ce minus ms"),
    (ETA / 2 + XI, "contains xi"),
    (ETA, "constant factor"),
    (0.75, "not a float"),
    ("eta/2", "got a string"),
]

# %% [markdown]
# ### Exercise 5
#
# The focal loss (α = 1, γ = 2) has no finite stationary point; MS-focal (eq. 4, `ms-focal`)
# adds the paper's term. Its dℓ/dξ contains a logarithm, so there is no closed form. Find its
# root for η = 3/2, α = 1, γ = 2 numerically with `scipy.optimize.brentq` on the lambdified
# `symbolic.grad_xi(...)`, and give it as the float `answer_5`. (Hint: evaluate the derivative
# at a few points first to find a bracket where it changes sign.)

# %%
answer_5 = ...  # a float in (0, 1)
### BEGIN SOLUTION
params = {"eta": ETA_VALUE, "alpha": 1, "gamma": 2}
derivative = sp.lambdify(XI, symbolic.grad_xi("ms-focal", **params), "numpy")
print("sign at 0.1 and 0.99:", np.sign(derivative(0.1)), np.sign(derivative(0.99)))
answer_5 = brentq(derivative, 0.1, 0.99, xtol=1e-14)
answer_5
### END SOLUTION

# %% tags=["check"]
# Check exercise 5
(focal_point,) = symbolic.stationary_points("ms-focal", eta=ETA_VALUE, alpha=1, gamma=2)
if checks.answered(5, answer_5):
    # brentq's xtol 1e-14 and sympy's root isolation agree far below 1e-9.
    checks.approx(
        answer_5,
        float(focal_point.xi),
        tol=1e-9,
        interval=(0, 1),
        mistakes=[(xi_star, "this is eq. 7's ξ*, not MS-focal's")],
    )
    checks.correct(5)

# %% tags=["mistakes"]
mistakes_5 = [
    (float(xi_star), "eq. 7's ξ*"),
    (-float(focal_point.xi), "not in (0, 1)"),
    ("0.7", "got a string"),
    ((0.7,), "got a tuple"),
    (float(focal_point.xi) + 1e-3, "too large"),
]

# %% [markdown]
# **Takeaway.** A loss of ξ has a finite stationary point only where dℓ/dξ changes sign in
# (0, 1). CE's derivative never does, so CE only "stops" as ξ → 1 (the logit → ∞; lesson 2).
# The paper's term creates a finite minimum ξ* < 1; lesson 3 asks for which η.
#
# ## Questions to think about
#
# 1. Why does a term that is smallest at ξ = 1/2 give a minimum of the total loss *above* 1/2?
# 2. A loss with its minimum at ξ* < 1 stops pushing a sample once it is classified with
#    probability ξ*. Why might the paper hope that this helps robustness, and what would you
#    need to measure to know (lessons 4 and 5)?
# 3. Exercise 4 says eq. 31 with 2η is eq. 7 with η. What does that predict for the η at which
#    each loss gets its stationary point?

# %% [markdown]
# ### BEGIN SOLUTION
# **Discussion.**
# 1. The term's slope 2η(2ξ − 1) is zero at 1/2 but CE's slope −1/ξ is still negative there, so
#    the total keeps falling past 1/2; it stops where 2η(2ξ − 1) has grown to 1/ξ, above 1/2.
# 2. Under CE every training sample keeps being pushed to ξ → 1, which in a linear model makes
#    |w| grow without bound; a finite minimum stops that. Whether it moves the decision boundary
#    to a more robust place is a separate question: lesson 4 shows it centres the boundary only
#    on special data, and lesson 5 measures robustness under attack with its noise.
# 3. The same stationary points at twice the η: eq. 31's threshold is twice eq. 7's (lesson 3
#    derives 1/2 and 1), so the paper's Theorem 3 cannot state 1/2 for both.
# ### END SOLUTION

# %% [markdown]
# ## References
#
# - *Multi-stationary point losses for robust model*, ICLR 2023 submission on OpenReview
#   (withdrawn), [arXiv:2302.09575](https://arxiv.org/abs/2302.09575).
# - D. Soudry, E. Hoffer, M. S. Nacson, S. Gunasekar, N. Srebro (2018), *The implicit bias of
#   gradient descent on separable data*, JMLR; [arXiv:1710.10345](https://arxiv.org/abs/1710.10345).
# - T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollár (2017), *Focal loss for dense object
#   detection*, ICCV; [arXiv:1708.02002](https://arxiv.org/abs/1708.02002).
# - N. Carlini et al. (2019), *On evaluating adversarial robustness*;
#   [arXiv:1902.06705](https://arxiv.org/abs/1902.06705).
# - F. Croce, M. Hein (2020), *Reliable evaluation of adversarial robustness with an ensemble of
#   diverse parameter-free attacks* (AutoAttack), ICML;
#   [arXiv:2003.01690](https://arxiv.org/abs/2003.01690).
# - M. Pezeshki et al. (2021), *Gradient starvation: a learning proclivity in neural networks*,
#   NeurIPS; [arXiv:2011.09468](https://arxiv.org/abs/2011.09468).
