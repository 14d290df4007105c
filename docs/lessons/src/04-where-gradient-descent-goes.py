# %% [markdown]
# # Lesson 4: where gradient descent goes
#
# **Paper.** *Multi-stationary point losses for robust model*, anonymous submission to ICLR 2023
# on OpenReview (withdrawn); [arXiv:2302.09575](https://arxiv.org/abs/2302.09575).
#
# **Uses.** Theorem 1 (CE does not reach the robust boundary), Theorem 2 (eq. 7 centres the
# boundary on four symmetric points; its proof, eqs. 18-30), Figure 1 (two segments), eq. 7 with
# Figure 5's η = 3/2, and Soudry et al. (2018) on CE's implicit bias.
#
# **Prerequisites.** Lessons 1-3; linear classifiers σ(w·x + b); the hard-margin SVM (the
# separator with the largest distance to the closest points). **Time.** About 50 minutes.
#
# **Learning goal.** Derive the max-margin boundary of a small data set by hand; watch
# full-batch gradient descent with CE turn towards that direction while |w| grows like log t;
# see eq. 7 stop at a finite stationary point; and find when that point centres the boundary
# (Theorem 2's symmetric data) and when it does not.

# %%
import sys

sys.path.insert(0, "..")  # the solutions notebooks find lesson_checks.py one folder up

import lesson_checks as checks
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

from msanalysis import losses, symbolic
from msanalysis.figures.trajectories import figure_trajectories
from msanalysis.simulate import get_dataset, max_margin, simulate

ETA_VALUE = losses.ETA.default  # the paper's η = 3/2

# %% [markdown]
# ## 1. The max-margin boundary, by hand
#
# Take two positives, (1, 2) and (2, 1), and one negative, (0, 0). The hard-margin SVM looks for
# the (w, b) with the smallest |w| such that y(w·x + b) ≥ 1 for every point; the boundary
# w·x + b = 0 then lies at distance 1/|w| from the closest points, as far as possible.
#
# ### Exercise 1
#
# Find that (w, b) by geometry: which point of the positives' convex hull is closest to the
# negative? The boundary is the perpendicular bisector of the segment between the two, scaled
# so that the closest points have y(w·x + b) = 1. Write the derivation in LaTeX below, then
# give `answer_1 = (w1, w2, b)` as exact numbers.

# %% [markdown]
# *Your derivation (LaTeX):*
# ### BEGIN SOLUTION
# The hull of the positives is the segment from (1, 2) to (2, 1); its point closest to the origin
# is its midpoint (3/2, 3/2). So w ∝ (1, 1), and the boundary bisects [(0, 0), (3/2, 3/2)]:
# $x_1 + x_2 = 3/2$. With $w = (a, a)$: $a \cdot 0 + b = -1$ at the negative and $3a + b = 1$
# at the positives, so $b = -1$, $a = 2/3$: $w = (2/3, 2/3)$, margin $1/|w| = 3/(2\sqrt 2)$.
# ### END SOLUTION

# %%
answer_1 = ...  # (w1, w2, b), exact numbers
### BEGIN SOLUTION
answer_1 = (sp.Rational(2, 3), sp.Rational(2, 3), -1)
answer_1
### END SOLUTION

# %% tags=["check"]
# Check exercise 1
small_x = np.array([[1.0, 2.0], [2.0, 1.0], [0.0, 0.0]])
small_y = np.array([1.0, 1.0, -1.0])
svm_small = max_margin(small_x, small_y)
# SLSQP solves to ~1e-12 here; nsimplify reads its floats as the nearest simple rationals.
exact_svm = [sp.nsimplify(v, tolerance=1e-8, rational=True) for v in (*svm_small.w, svm_small.b)]
if checks.answered(1, answer_1):
    mine = checks.unpack(answer_1, 3, shape="(w1, w2, b)")
    checks.scaled(
        mine, exact_svm, what="(w1, w2, b)", hint="the closest points need y(w·x + b) = 1"
    )
    for name, value, expected in zip(("w1", "w2", "b"), mine, exact_svm, strict=True):
        checks.exact(value, expected, what=name)
    checks.correct(1)

# %% tags=["mistakes"]
mistakes_1 = [
    ((1, 1, sp.Rational(-3, 2)), "right direction, wrong scale"),
    ((-sp.Rational(2, 3), -sp.Rational(2, 3), 1), "wrong sign"),
    ((0.6667, 0.6667, -1.0), "not a float"),
    ((sp.Rational(2, 3), -1), "expected a tuple"),
    (("2/3", "2/3", "-1"), "got a string"),
    ((sp.Rational(1, 2), sp.Rational(1, 2), -1), "not what msanalysis derives"),
]

# %% [markdown]
# `msanalysis.simulate.max_margin` solves the same problem numerically (scipy's SLSQP):

# %%
print(f"w = {svm_small.w.round(6)}, b = {svm_small.b:.6f}, margin 1/|w| = {svm_small.margin:.6f}")

# %% [markdown]
# ## 2. CE on the two segments of Figure 1
#
# `msanalysis.simulate.simulate` runs full-batch GD from w = 0, b = 0 on a named data set with
# the model σ(w·x + b) and the loss summed over samples, its gradient taken from
# `symbolic.grad_logit`. Figure 1's data are two parallel segments, offset so that symmetry
# alone does not fix the boundary's direction.
#
# **What you should see.** Left: CE's boundary after 20000 steps close to, but not on, the
# max-margin one (dashed). Middle: the angle between w and the max-margin normal shrinking
# slowly against log t. Right: |w| growing along a straight line against log t, without bound.

# %%
segments = get_dataset("segments")
svm = max_margin(segments.x, segments.y)
ce = simulate("segments", "ce", steps=20000)

fig, (ax_data, ax_angle, ax_norm) = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
for label, marker in ((1, "o"), (-1, "x")):
    pts = segments.x[segments.y == label]
    ax_data.scatter(pts[:, 0], pts[:, 1], marker=marker, label=f"samples y = {label:+d}")
grid = np.linspace(-3.5, 3.5, 2)
lines = ((svm.w, svm.b, "--", "max margin"), (np.array(ce.w), ce.b, "-", "CE, t = 20000"))
for w, b, style, name in lines:
    ax_data.plot(grid, -(w[0] * grid + b) / w[1], style, label=name)
ax_data.set(title="Figure 1's segments", xlabel="x₁", ylabel="x₂", ylim=(-2, 2))
steps = np.array(ce.trajectory["step"])
ax_angle.semilogx(steps, ce.trajectory["angle_deg"])
ax_angle.set(xlabel="step t", ylabel="angle(w, SVM normal) [deg]", title="direction")
ax_norm.semilogx(steps, ce.trajectory["w_norm"])
ax_norm.set(xlabel="step t", ylabel="|w|", title=f"|w| ≈ a + {ce.w_log_slope:.2f} log t")
fig.legend(*ax_data.get_legend_handles_labels(), loc="outside lower center", ncols=4)
plt.show()
print(f"converged: {ce.converged}; final angle {ce.angle_deg:.2f}°")
print(f"|w| log-slope {ce.w_log_slope:.3f}")

# %% [markdown]
# CE never converges: |w| grows without bound while the angle to the max-margin normal keeps
# shrinking, slowly (like 1/log t). This is Soudry et al. (2018): on separable data GD with CE
# converges *in direction* to the max-margin separator. The paper's Theorem 1 says CE does not
# reach the robust boundary; read against this run, it holds only in the sense that no finite
# step gets there. (The package's claims ledger, `python -m msanalysis verify`, records the
# computed verdict on Theorem 1.)
#
# ## 3. Eq. 7 on Theorem 2's data: a finite stationary point, centred
#
# Positives at x = 1, negatives at x = −1. Eq. 7 (η = 3/2) converges: |w| stops, every sample
# sits at the ξ* of lesson 1, and the boundary is the max-margin one, x = 0.

# %%
ms_sym = simulate("paper-4pt", "ms", {"eta": ETA_VALUE})
ce_sym = simulate("paper-4pt", "ce")
for r in (ms_sym, ce_sym):
    print(
        f"{r.loss}: converged {r.converged}, w = {r.w[0]:.4f}, boundary {r.boundary:.2e} "
        f"(max margin {r.max_margin_boundary:.2e}), ξ of the samples {np.round(r.xi_final, 6)}"
    )
print(f"ξ* at η = 3/2: {ms_sym.xi_star}; GD ends at it: {ms_sym.matches_symbolic}")
assert ms_sym.converged and ms_sym.at_sample_stationary and not ce_sym.converged

# %% [markdown]
# ## 4. When eq. 7 does not centre the boundary
#
# Add one positive farther out: positives at 1 and 3, a negative at −1. The max-margin boundary
# is still x = 0 (it depends only on the closest points). Eq. 7 wants *every* sample at ξ*,
# which two parameters (w, b) cannot give three distinct points; its stationary point balances
# the pulls instead, and the boundary moves.

# %%
ms_asym = simulate("asymmetric", "ms", {"eta": ETA_VALUE})
ce_asym = simulate("asymmetric", "ce")
for r in (ms_asym, ce_asym):
    print(
        f"{r.loss}: converged {r.converged}, boundary {r.boundary:+.6f}, "
        f"max margin {r.max_margin_boundary:+.1e}"
    )
print(f"eq. 7's boundary is {abs(ms_asym.boundary - ms_asym.max_margin_boundary):.3f} off centre")

# %% [markdown]
# `msanalysis.figures.trajectories.figure_trajectories` draws these four runs.
#
# **What you should see.** For eq. 7, |w| and the boundary level off (the runs converge); on the
# asymmetric data the boundary levels off near 0.2, away from the max-margin 0 (dashed). For
# CE, |w| keeps growing like log t; on the asymmetric data its boundary creeps towards 0. On
# Theorem 2's data both boundaries sit at 0 throughout (the lines overlap).

# %%
figure_trajectories([ms_sym, ce_sym, ms_asym, ce_asym])

# %% [markdown]
# So Theorem 2's centring is a property of its symmetric two-position data, not of eq. 7.
#
# ## 5. Exercises
#
# ### Exercise 2
#
# Find eq. 7's stationary point on the asymmetric data with sympy instead of gradient descent.
# `symbolic.linear_system("ms", ((1, 1), (3, 1), (-1, 0)), eta=ETA_VALUE)` gives the summed loss
# of points (x, label) with its gradients `grad_w`, `grad_b` in the symbols `symbolic.W`,
# `symbolic.B` and the `boundary` as an expression of them. Solve the gradient system with
# `sp.nsolve` and give the boundary as the float `answer_2`.

# %%
answer_2 = ...  # a float
### BEGIN SOLUTION
system = symbolic.linear_system("ms", ((1, 1), (3, 1), (-1, 0)), eta=ETA_VALUE)
unknowns, start = [symbolic.W, symbolic.B], [0.5, 0.0]
w_star, b_star = sp.nsolve([system.grad_w, system.grad_b], unknowns, start, prec=30)
answer_2 = float(system.boundary.subs({symbolic.W: w_star, symbolic.B: b_star}))
answer_2
### END SOLUTION

# %% tags=["check"]
# Check exercise 2
if checks.answered(2, answer_2):
    # GD stops at |∇| < 1e-9 (simulate's tol), which fixes the boundary far better than 1e-8.
    checks.approx(
        answer_2,
        ms_asym.boundary,
        tol=1e-8,
        mistakes=[(ms_asym.max_margin_boundary, "this is the max-margin boundary, not eq. 7's")],
    )
    checks.correct(2)

# %% tags=["mistakes"]
mistakes_2 = [
    (0.0, "max-margin boundary"),
    (-ms_asym.boundary, "wrong sign"),
    ("0.2", "got a string"),
    (ms_asym.boundary + 1e-3, "too large"),
]

# %% [markdown]
# ### Exercise 3
#
# Imbalanced data: five positives at x = 1 and one negative at x = −1 (data set `"imbalanced"`).
# Does eq. 7 (η = 3/2) centre the boundary there? Give the boundary it converges to as the float
# `answer_3`, and explain in a comment why the imbalance does or does not matter.

# %%
answer_3 = ...  # a float
### BEGIN SOLUTION
imbalanced = simulate("imbalanced", "ms", {"eta": ETA_VALUE})
# Only two distinct positions: (w, b) = (logit ξ*, 0) puts every sample at ξ*, where each
# sample's gradient is zero on its own, so the counts do not matter: centred at x = 0.
answer_3 = imbalanced.boundary
print(imbalanced.converged, imbalanced.at_sample_stationary)
answer_3
### END SOLUTION

# %% tags=["check"]
# Check exercise 3
# At (w, b) = (logit ξ*, 0) every sample has ξ = ξ*: check that this zeroes sympy's gradient of
# the imbalanced loss (to 1e-40 at 50 digits: exactly, up to rounding), and use its boundary.
xi_star = symbolic.stationary_points("ms", eta=ETA_VALUE)[0].xi
system_6 = symbolic.linear_system("ms", ((1, 1),) * 5 + ((-1, 0),), eta=ETA_VALUE)
at = {symbolic.W: symbolic.logit(xi_star), symbolic.B: 0}
assert all(abs(sp.N(g.subs(at), 50)) < 1e-40 for g in (system_6.grad_w, system_6.grad_b))
if checks.answered(3, answer_3):
    # GD's boundary is fixed to ~1e-9 by its stopping tolerance: 1e-8 leaves room.
    checks.approx(answer_3, float(system_6.boundary.subs(at)), tol=1e-8)
    checks.correct(3)

# %% tags=["mistakes"]
mistakes_3 = [
    (ms_asym.boundary, "too large"),
    ("0", "got a string"),
    (True, "got a bool"),
    (-0.1, "too small"),
]

# %% [markdown]
# ### Exercise 4
#
# The paper's proofs use the score 2(w·x + b) − 1 instead of w·x + b (`simulate(...,
# parametrisation="odd")`). Predict c in |w| ≈ a + c log t for CE on Theorem 2's data with that
# score and give it as `answer_4` (section 2 measured c ≈ 1 with the plain score on Figure 1's
# data; on Theorem 2's data the plain score gives 1 too).

# %%
answer_4 = ...  # a number
### BEGIN SOLUTION
# With b at 1/2 every sample's logit is 2w, the loss 4 log(1 + e^(−2w)), so dw/dt ∝ e^(−2w),
# e^(2w) ∝ t and w ≈ (1/2) log t.
answer_4 = 0.5
answer_4
### END SOLUTION

# %% tags=["check"]
# Check exercise 4
odd = simulate("paper-4pt", "ce", parametrisation="odd")
assert not odd.converged
if checks.answered(4, answer_4):
    # the fit of |w| against log t over a finite run is within ~0.01 of its limit; 0.05 is safe
    checks.approx(
        answer_4,
        odd.w_log_slope,
        tol=0.05,
        interval=(0, np.inf),
        mistakes=[(ce_sym.w_log_slope, "this is the plain score's slope, not the odd score's")],
    )
    checks.correct(4)

# %% tags=["mistakes"]
mistakes_4 = [
    (1.0, "plain score's slope"),
    (-0.5, "not in (0, inf)"),
    ("1/2", "got a string"),
    (0.25, "too small"),
]

# %% [markdown]
# **Takeaway.** CE's iterates run off to infinity along the max-margin direction; eq. 7's stop
# at a finite point where every sample would like ξ = ξ*. That point is the max-margin boundary
# when the data let every sample reach ξ* at once (two distinct positions), and generally is not
# otherwise.
#
# ## Questions to think about
#
# 1. Why does the max-margin boundary depend only on the closest points, while eq. 7's
#    stationary point depends on every point?
# 2. CE reaches the max-margin direction only in the limit t → ∞, and slowly. Is a boundary
#    that is "almost max-margin after finite training" good enough for robustness?
# 3. Why might a loss that keeps every sample at ξ* be more exposed to outliers than CE?

# %% [markdown]
# ### BEGIN SOLUTION
# **Discussion.**
# 1. The SVM's constraints are active only at the support vectors, so the others can move
#    freely without changing it. Eq. 7's stationary point solves Σ_i ∇ℓ_i = 0: every sample has a
#    non-zero gradient unless it sits exactly at ξ*, so every sample pulls.
# 2. The angle shrinks like 1/log t: after 20000 steps it is still a few degrees on Figure 1's
#    data. Robustness to a perturbation of size ε needs a margin larger than ε in the direction
#    that matters; an off-direction boundary can have a much smaller margin for some points.
# 3. Under CE a far-away, correctly classified point contributes almost nothing (its gradient
#    decays like e^(−margin)); under eq. 7 a point beyond ξ* is pushed *back* towards the
#    boundary, so a distant point moves the boundary (section 4's asymmetric data).
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
