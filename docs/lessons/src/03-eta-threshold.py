# %% [markdown]
# # Lesson 3: the η threshold
#
# **Learning goal.** Derive the η above which two-stationary-point CE (eq. 7, `ms`) has a
# finite stationary point, confirm it with a gradient-descent sweep over η, and predict the
# threshold of a loss the paper does not treat.
#
# Lesson 1 found ξ* ≈ 0.729 for η = 3/2. For small η the term is too weak to cancel the
# −1/ξ of CE anywhere in (0, 1). Where exactly does that change?

# %%
%matplotlib inline
import numpy as np
import sympy as sp
import matplotlib.pyplot as plt

from msanalysis import claims, figures, symbolic
from msanalysis.losses import focal, with_stationary_term
from msanalysis.sweep import sweep_eta
from msanalysis.symbolic import ALPHA, ETA, XI

# %% [markdown]
# ## 1. The argument
#
# dℓ/dξ is continuous on (0, 1) and tends to −∞ as ξ → 0⁺ (the −log ξ of CE). If it is
# positive as ξ → 1⁻, it must cross zero in between (intermediate value theorem). For `ms`
# that limit is affine in η, so the threshold η_c is where it crosses zero.

# %%
g = symbolic.grad_xi("ms")
at_zero, at_one = sp.limit(g, XI, 0, "+"), sp.limit(g, XI, 1, "-")
(eta_c,) = sp.solve(at_one, ETA)
print("dℓ/dξ → ", at_zero, "as ξ → 0⁺ and →", at_one, "as ξ → 1⁻;  η_c =", eta_c)
assert eta_c == symbolic.eta_threshold("ms")

# %% [markdown]
# The other direction: for η ≤ η_c there is no root. The closed form of lesson 1 shows it:
# the admissible root ξ*(η) reaches 1 exactly at η = η_c and exceeds 1 below it.

# %%
root = symbolic.stationary_closed_form("ms")[1]
print("ξ*(η) =", root, "; ξ* = 1 at η =", sp.solve(sp.Eq(root, 1), ETA))
for value in (sp.Rational(2, 5), sp.Rational(1, 2), sp.Rational(3, 5)):
    print(f"η = {value}: ξ* = {sp.N(root.subs(ETA, value), 6)}, stationary points in (0, 1):",
          [sp.N(p.xi, 6) for p in symbolic.stationary_points("ms", eta=value)])

# %% [markdown]
# ## 2. Confirm it by gradient descent
#
# `msanalysis.sweep.sweep_eta` runs gradient descent on a one-sample problem (a positive at
# x = 1, model σ(wx + b)) for every η of a grid and several initial logits at once. A run
# converges to a finite point exactly when the loss has a finite stationary point; the
# sweep decides that with an order-preservation certificate rather than by eye (see the
# module's docstring for why "the gradient got small" is not enough near the threshold).

# %%
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

# %% [markdown]
# ## 3. The paper's Theorem 3, in the ledger
#
# The paper states η > 1/2 for eq. 7 (Section 5) and for the appendix's regularised CE
# (eq. 31). Lesson 1 showed that eq. 31 with 2η is eq. 7 with η, up to a constant, so the two
# thresholds cannot both be 1/2:

# %%
print("η_c of centred-ce (eq. 31):", symbolic.eta_threshold("centred-ce"))
for row in (claims.theorem3_section5(), claims.theorem3_appendix()):
    print(f"{row.id}: {row.verdict.value}: {row.derived}")

# %% [markdown]
# The package's η phase diagram (`msanalysis.figures.figure_eta_phase`) draws ξ* against η
# for eq. 7, eq. 31 and MS-focal, with each exact threshold as a dotted line:

# %%
figures.figure_eta_phase()

# %% [markdown]
# ## 4. A loss the paper does not treat
#
# Section 5 adds the term to any loss of ξ; `with_stationary_term` builds that transform.
# Take the focal loss with γ = 0 and α = 1/2 (half of CE) and add the term:

# %%
new_loss = with_stationary_term(focal, eta=ETA, alpha=sp.Rational(1, 2), gamma=0)
expr = new_loss(symbolic.true_class())  # the same definition, evaluated on sympy symbols
expr

# %% [markdown]
# ### Exercise 1
#
# Predict the η threshold of `new_loss` with the argument of section 1 (no sweep yet) and
# give it as an exact sympy number `answer_1`.

# %%
answer_1 = ...  # an exact number
### BEGIN SOLUTION
slope = sp.diff(expr, XI)
print("dℓ/dξ → ", sp.limit(slope, XI, 0, "+"), "at 0⁺ and", sp.limit(slope, XI, 1, "-"), "at 1⁻")
(answer_1,) = sp.solve(sp.limit(slope, XI, 1, "-"), ETA)
answer_1  # half the CE weight, half the threshold
### END SOLUTION

# %% tags=["check"]
# Check exercise 1
# new_loss is the registry's MS-focal at α = 1/2, γ = 0, whose threshold sympy derives:
assert sp.simplify(expr - symbolic.loss("ms-focal", alpha=sp.Rational(1, 2), gamma=0)) == 0
expected = symbolic.eta_threshold("ms-focal", alpha=sp.Rational(1, 2), gamma=0)
assert sp.sympify(answer_1) == expected, f"{answer_1} is not {expected}"

# %% [markdown]
# ### Exercise 2
#
# Confirm your prediction by gradient descent: run `sweep_eta` for that loss (it is
# `"ms-focal"` with `alpha=0.5, gamma=0`) on the grid of section 2 (200 values, step
# `ETA_STEP`, 5000 steps) and give the threshold it finds as the float `answer_2`.

# %%
answer_2 = ...  # a float
### BEGIN SOLUTION
new_sweep = sweep_eta("ms-focal", alpha=0.5, gamma=0, n_eta=200, eta_step=ETA_STEP, steps=5000)
answer_2 = new_sweep.threshold_empirical
answer_2
### END SOLUTION

# %% tags=["check"]
# Check exercise 2
expected = float(symbolic.eta_threshold("ms-focal", alpha=sp.Rational(1, 2), gamma=0))
assert abs(answer_2 - expected) <= ETA_STEP * (1 + 1e-9), f"{answer_2} is not within {ETA_STEP} of {expected}"

# %% [markdown]
# ### Exercise 3
#
# Generalise: give `answer_3 = (threshold_gamma0, threshold_gamma2)`, where
# `threshold_gamma0` is the threshold of focal(α, γ = 0) + term as an expression of `ALPHA`,
# and `threshold_gamma2` the threshold for γ = 2, α = 1. Why is the second one what it is?

# %%
answer_3 = ...  # (expression of ALPHA, number)
### BEGIN SOLUTION
def threshold(base_params):
    slope = sp.diff(with_stationary_term(focal, eta=ETA, **base_params)(symbolic.true_class()), XI)
    at_one = sp.limit(slope, XI, 1, "-")
    roots = [r for r in sp.solve(at_one, ETA) if r.is_nonnegative is not False]
    return roots[0] if roots else sp.Integer(0)  # at_one > 0 for every η > 0

# γ > 0: focal's (1 − ξ)^γ factor makes its slope vanish at ξ → 1, so the term's 2η wins
# for any η > 0: the threshold is 0.
answer_3 = (threshold({"alpha": ALPHA, "gamma": 0}), threshold({"alpha": 1, "gamma": 2}))
answer_3
### END SOLUTION

# %% tags=["check"]
# Check exercise 3
assert isinstance(answer_3, tuple) and len(answer_3) == 2, "give a pair (expression of ALPHA, number)"
for alpha in (sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(3, 4), 1):
    expected = symbolic.eta_threshold("ms-focal", alpha=alpha, gamma=0)
    assert sp.sympify(answer_3[0]).subs(ALPHA, alpha) == expected, f"α = {alpha}: expected {expected}"
expected = symbolic.eta_threshold("ms-focal", alpha=1, gamma=2)
assert sp.sympify(answer_3[1]) == expected, f"γ = 2: expected {expected}"

# %% [markdown]
# **Takeaway.** The threshold is where lim_{ξ→1⁻} dℓ/dξ changes sign: 2η − α for a CE part
# of weight α, so η_c = α/2 (1/2 for eq. 7, 1 for eq. 31 whose term is half as strong), and
# 0 whenever the base loss's slope already vanishes at ξ → 1 (focal with γ > 0).
