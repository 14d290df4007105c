# %% [markdown]
# # Lesson 3: the η threshold
#
# **Paper.** *Multi-stationary point losses for robust model*, anonymous submission to ICLR 2023
# on OpenReview (withdrawn); [arXiv:2302.09575](https://arxiv.org/abs/2302.09575).
#
# **Uses.** Theorem 3 (stated in Section 5 for eq. 7 and in the appendix for eq. 31), eq. 7
# (`ms`), eq. 31 (`centred-ce`), eq. 4 (`ms-focal`) and the focal loss of Lin et al. (2017).
#
# **Prerequisites.** Lessons 1 and 2; one-sided limits and the intermediate value theorem.
# **Time.** About 45 minutes.
#
# **Learning goal.** Derive, by the intermediate-value argument, the η above which eq. 7 has a
# finite stationary point; see gradient descent diverge below it and stop above it; check the
# paper's Theorem 3; and predict the threshold of a loss the paper does not treat.
#
# Lesson 1 found ξ* ≈ 0.729 for η = 3/2. For small η the term is too weak to cancel the −1/ξ of
# CE anywhere in (0, 1). Where exactly does that change?

# %%
import sys

sys.path.insert(0, "..")  # the solutions notebooks find lesson_checks.py one folder up

import lesson_checks as checks
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

from msanalysis import figures, paper, symbolic
from msanalysis.losses import focal, with_stationary_term
from msanalysis.sweep import sweep_eta
from msanalysis.symbolic import ALPHA, ETA, XI

# %% [markdown]
# ## 1. The argument, by hand
#
# dℓ/dξ = −1/ξ + 2η(2ξ − 1) (lesson 1) is continuous on (0, 1) and tends to −∞ as ξ → 0⁺. If it
# is positive as ξ → 1⁻, it must cross zero in between (intermediate value theorem): a finite
# stationary point exists.
#
# ### Exercise 1
#
# Compute lim_{ξ→1⁻} dℓ/dξ for eq. 7 by hand (LaTeX below), and give it as `answer_1`, an
# expression of `ETA`.

# %% [markdown]
# *Your derivation (LaTeX):*
# ### BEGIN SOLUTION
# $$\lim_{\xi \to 1^-} \left(-\frac{1}{\xi} + 2\eta(2\xi - 1)\right) = -1 + 2\eta$$
# ### END SOLUTION

# %%
answer_1 = ...  # an expression of ETA
### BEGIN SOLUTION
answer_1 = 2 * ETA - 1
answer_1
### END SOLUTION

# %% tags=["check"]
# Check exercise 1
g = symbolic.grad_xi("ms")
at_one = sp.limit(g, XI, 1, "-")
if checks.answered(1, answer_1):
    checks.exact(
        answer_1,
        at_one,
        mistakes=[
            (sp.limit(g, XI, 0, "+"), "this is the limit at ξ → 0⁺, not at 1⁻"),
            (0, "this is the limit of dℓ/do_y (the factor 1 − ξ makes it 0): use dℓ/dξ"),
            (g, "take the limit ξ → 1⁻ of dℓ/dξ: your answer still contains ξ"),
        ],
    )
    checks.correct(1)

# %% tags=["mistakes"]
mistakes_1 = [
    (1 - 2 * ETA, "wrong sign"),
    (-sp.oo, "limit at ξ → 0⁺"),
    (0, "dℓ/do_y"),
    (g, "still contains ξ"),
    ("2*eta - 1", "got a string"),
    (2 * ETA - 1.0, "not a float"),
    (4 * ETA - 2, "constant factor"),
]

# %% [markdown]
# ### Exercise 2
#
# For which η is that limit positive? Give the threshold η_c as an exact number `answer_2`.

# %%
answer_2 = ...  # an exact number
### BEGIN SOLUTION
answer_2 = sp.Rational(1, 2)
answer_2
### END SOLUTION

# %% tags=["check"]
# Check exercise 2
eta_c = symbolic.eta_threshold("ms")
if checks.answered(2, answer_2):
    checks.exact(
        answer_2,
        eta_c,
        interval=(0, sp.oo),
        mistakes=[
            (symbolic.eta_threshold("centred-ce"), "this is eq. 31's threshold, not eq. 7's")
        ],
    )
    checks.correct(2)

# %% tags=["mistakes"]
mistakes_2 = [
    (0.5, "not a float"),
    (symbolic.eta_threshold("centred-ce"), "eq. 31's threshold"),
    (-eta_c, "not in (0, oo)"),
    ("1/2", "got a string"),
    (ETA / 2, "contains eta"),
    (2 * eta_c + 1, "not what msanalysis derives"),
    (eta_c + sp.sqrt(2), "not what msanalysis derives"),
]

# %% [markdown]
# sympy agrees (`symbolic.eta_threshold` derives the threshold from the limits, for any loss
# with the paper's term):

# %%
print("dℓ/dξ →", sp.limit(g, XI, 0, "+"), "as ξ → 0⁺ and →", at_one, "as ξ → 1⁻")
print("η_c =", sp.solve(at_one, ETA), "=", eta_c)

# %% [markdown]
# The other direction: for η ≤ η_c there is no root. The closed form of lesson 1 shows it: the
# admissible root ξ*(η) reaches 1 exactly at η = η_c and exceeds 1 below it.

# %%
root = symbolic.stationary_closed_form("ms")[1]
print("ξ*(η) =", root, "; ξ* = 1 at η =", sp.solve(sp.Eq(root, 1), ETA))
for value in (sp.Rational(2, 5), sp.Rational(1, 2), sp.Rational(3, 5)):
    inside = [sp.N(p.xi, 6) for p in symbolic.stationary_points("ms", eta=value)]
    print(f"η = {value}: ξ* = {sp.N(root.subs(ETA, value), 6)}, roots in (0, 1): {inside}")

# %% [markdown]
# ## 2. Gradient descent below and above η_c
#
# `msanalysis.sweep.sweep_eta` runs gradient descent on a one-sample problem (a positive at
# x = 1, model σ(wx + b)) for every η of a grid and several initial logits at once. Its verdict
# "every run converges" is guaranteed, not read off a small gradient: it holds exactly when the
# loss has a finite stationary point below the largest starting logit.
#
# **What you should see.** The final logit of the run started at 0, after 300, 3000 and 30000
# steps. Below η_c the three curves are apart, each tenfold increase of the budget raising the
# logit by about the same amount: the run diverges (like log t). Above η_c they meet the dashed
# logit of ξ*(η): the runs have stopped there. Just above η_c, ξ* is so close to 1 that 30000
# steps have not reached it yet.

# %%
budgets = (300, 3000, 30000)
coarse = {s: sweep_eta("ms", n_eta=40, eta_step=0.025, steps=s) for s in budgets}
etas = coarse[budgets[0]].etas
start = int(np.argmin(np.abs(coarse[budgets[0]].inits)))  # the run started at logit 0
above = etas > float(eta_c)
z_star = sp.lambdify(ETA, symbolic.logit(root), "numpy")(etas[above])

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for steps, result in coarse.items():
    ax.plot(etas, result.z_final[:, start], "o-", ms=3, label=f"final logit, {steps} steps")
ax.plot(etas[above], z_star, "k--", label="logit of ξ*(η), the stationary point")
ax.axvline(float(eta_c), ls=":", c="gray", label="η_c (sympy)")
ax.set(xlabel="η", ylabel="true-class logit z after gradient descent", ylim=(0, None))
fig.legend(loc="outside right upper")
plt.show()

# %% [markdown]
# On a fine grid the sweep's threshold agrees with sympy's within the grid step:

# %%
ETA_STEP = 0.005
sweep = sweep_eta("ms", n_eta=200, eta_step=ETA_STEP, steps=5000)
print(
    f"threshold by GD: {sweep.threshold_empirical:.3f}, by sympy: {sweep.threshold_symbolic}, "
    f"agree within the grid step: {sweep.agrees}"
)
assert sweep.agrees and sweep.monotone_phases

# %% [markdown]
# ## 3. The paper's Theorem 3
#
# The paper states η > 1/2 for eq. 7 (Section 5) and for the appendix's regularised CE (eq. 31).
# Lesson 1 showed that eq. 31 with 2η is eq. 7 with η, up to a constant, so the two thresholds
# cannot both be 1/2:

# %%
stated = paper.PRINTED["Theorem 3"]
for name, eq in (("ms", "eq. 7"), ("centred-ce", "eq. 31")):
    derived = symbolic.eta_threshold(name)
    verdict = "agrees" if derived == stated else "differs"
    print(f"{eq}: derived η_c = {derived}, Theorem 3 states {stated}: {verdict}")

# %% [markdown]
# The package's η phase diagram (`msanalysis.figures.figure_eta_phase`) draws ξ* against η for
# eq. 7, eq. 31 and MS-focal, with each exact threshold as a dotted line.
#
# **What you should see.** Each curve starts at ξ* = 1 at its own threshold (1/2 for eq. 7, 1
# for eq. 31, 0 for MS-focal with γ = 2) and falls towards 1/2 as η grows.

# %%
figures.figure_eta_phase()

# %% [markdown]
# ## 4. A loss the paper does not treat
#
# Section 5 adds the term to any loss of ξ; `with_stationary_term` builds that transform. Take
# the focal loss with γ = 0 and α = 1/2 (half of CE) and add the term:

# %%
new_loss = with_stationary_term(focal, eta=ETA, alpha=sp.Rational(1, 2), gamma=0)
expr = new_loss(symbolic.true_class())  # the same definition, evaluated on sympy symbols
expr

# %% [markdown]
# ### Exercise 3
#
# Predict the η threshold of `new_loss` with the argument of section 1 (no sweep yet) and give
# it as an exact sympy number `answer_3`.

# %%
answer_3 = ...  # an exact number
### BEGIN SOLUTION
slope = sp.diff(expr, XI)
print("dℓ/dξ →", sp.limit(slope, XI, 0, "+"), "at 0⁺ and", sp.limit(slope, XI, 1, "-"), "at 1⁻")
(answer_3,) = sp.solve(sp.limit(slope, XI, 1, "-"), ETA)
answer_3  # half the CE weight, half the threshold
### END SOLUTION

# %% tags=["check"]
# Check exercise 3
# new_loss is the registry's MS-focal at α = 1/2, γ = 0, whose threshold sympy derives:
assert sp.simplify(expr - symbolic.loss("ms-focal", alpha=sp.Rational(1, 2), gamma=0)) == 0
new_threshold = symbolic.eta_threshold("ms-focal", alpha=sp.Rational(1, 2), gamma=0)
if checks.answered(3, answer_3):
    checks.exact(
        answer_3,
        new_threshold,
        interval=(0, sp.oo),
        mistakes=[(eta_c, "this is eq. 7's threshold: here CE has weight α = 1/2")],
    )
    checks.correct(3)

# %% tags=["mistakes"]
mistakes_3 = [
    (eta_c, "eq. 7's threshold"),
    (float(new_threshold), "not a float"),
    (-new_threshold, "not in (0, oo)"),
    ("1/4", "got a string"),
    (ALPHA / 2, "contains alpha"),
]

# %% [markdown]
# ### Exercise 4
#
# Confirm your prediction by gradient descent: run `sweep_eta` for that loss (it is `"ms-focal"`
# with `alpha=0.5, gamma=0`) on the fine grid of section 2 (200 values, step `ETA_STEP`, 5000
# steps) and give the threshold it finds as the float `answer_4`.

# %%
answer_4 = ...  # a float
### BEGIN SOLUTION
new_sweep = sweep_eta("ms-focal", alpha=0.5, gamma=0, n_eta=200, eta_step=ETA_STEP, steps=5000)
answer_4 = new_sweep.threshold_empirical
answer_4
### END SOLUTION

# %% tags=["check"]
# Check exercise 4
if checks.answered(4, answer_4):
    # the sweep resolves the threshold to one grid step (section 2), no better
    checks.approx(
        answer_4,
        float(new_threshold),
        tol=ETA_STEP * (1 + 1e-9),
        interval=(0, np.inf),
        mistakes=[(float(eta_c), "this is eq. 7's threshold, not the new loss's")],
    )
    checks.correct(4)

# %% tags=["mistakes"]
mistakes_4 = [
    (float(eta_c), "eq. 7's threshold"),
    ("0.25", "got a string"),
    (-0.25, "not in (0, inf)"),
    (0.35, "too large"),
    (None, "got a NoneType"),
]

# %% [markdown]
# ### Exercise 5
#
# Generalise: give `answer_5 = (threshold_gamma0, threshold_gamma2)`, where `threshold_gamma0` is
# the threshold of focal(α, γ = 0) + term as an expression of `ALPHA`, and `threshold_gamma2`
# the threshold for γ = 2, α = 1. Why is the second one what it is?

# %%
answer_5 = ...  # (expression of ALPHA, number)


### BEGIN SOLUTION
def threshold(base_params):
    loss = with_stationary_term(focal, eta=ETA, **base_params)
    at_one = sp.limit(sp.diff(loss(symbolic.true_class()), XI), XI, 1, "-")
    roots = [r for r in sp.solve(at_one, ETA) if r.is_nonnegative is not False]
    return roots[0] if roots else sp.Integer(0)  # at_one > 0 for every η > 0


# γ > 0: focal's (1 − ξ)^γ factor makes its slope vanish as ξ → 1, so the term's 2η wins for
# any η > 0: the threshold is 0.
answer_5 = (threshold({"alpha": ALPHA, "gamma": 0}), threshold({"alpha": 1, "gamma": 2}))
answer_5
### END SOLUTION

# %% tags=["check"]
# Check exercise 5
if checks.answered(5, answer_5):
    gamma0, gamma2 = checks.unpack(answer_5, 2, shape="(threshold_gamma0, threshold_gamma2)")
    checks.exact(
        gamma0,
        symbolic.eta_threshold("ms-focal", gamma=0),
        what="threshold_gamma0",
        mistakes=[(ALPHA, "α is the threshold with eq. 31's term η(ξ − 1/2)², not with eq. 7's")],
    )
    checks.exact(
        gamma2,
        symbolic.eta_threshold("ms-focal", alpha=1, gamma=2),
        what="threshold_gamma2",
        mistakes=[(eta_c, "this is CE's (γ = 0): what does (1 − ξ)^γ do to the slope at 1⁻?")],
    )
    checks.correct(5)

# %% tags=["mistakes"]
mistakes_5 = [
    ((sp.Rational(1, 2), 0), "depends on alpha"),
    ((ALPHA / 2, eta_c), "CE's (γ = 0)"),
    ((ALPHA / 2, 0.0), "not a float"),
    ((-ALPHA / 2, 0), "wrong sign"),
    (ALPHA / 2, "expected a tuple"),
    (("alpha/2", 0), "got a string"),
]

# %% [markdown]
# **Takeaway.** The threshold is where lim_{ξ→1⁻} dℓ/dξ changes sign: 2η − α for a CE part of
# weight α, so η_c = α/2 (1/2 for eq. 7, 1 for eq. 31 whose term is half as strong), and 0
# whenever the base loss's slope already vanishes at ξ → 1 (focal with γ > 0).
#
# ## Questions to think about
#
# 1. The intermediate-value argument proves a root exists above η_c. Why does it not, on its
#    own, prove there is *only one*?
# 2. Just above η_c the stationary point exists but gradient descent needs a very long time to
#    reach it (the figure). Why, and what does that mean for "the paper's η works" in training?
# 3. Why should a threshold of 0 (MS-focal with γ = 2) make you cautious rather than pleased?

# %% [markdown]
# ### BEGIN SOLUTION
# **Discussion.**
# 1. The theorem gives existence only. Uniqueness here comes from the quadratic of lesson 1: its
#    two roots have product −1/(4η) < 0, so exactly one is positive. For MS-focal, with a log in
#    dℓ/dξ, `stationary_points` isolates every root to show there is one.
# 2. Near ξ = 1 the logit gradient has the factor (1 − ξ) and the curvature at the stationary
#    point is ~(1 − ξ*)², tiny when ξ* is near 1: gradient descent crawls. In training, an η just
#    above the threshold behaves like CE for any realistic budget.
# 3. It means any η > 0, however small, creates a stationary point, but then ξ* is extremely
#    close to 1, and the loss behaves like the focal loss in practice (question 2): "has a
#    stationary point" says nothing about where it is or whether training reaches it.
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
