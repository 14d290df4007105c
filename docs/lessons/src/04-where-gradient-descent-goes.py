# %% [markdown]
# # Lesson 4: where gradient descent goes
#
# **Learning goal.** Watch full-batch gradient descent on small separable data: with CE the
# direction of w converges to the max-margin separator while |w| grows like log t; with MS
# it stops at a finite stationary point. Then see when that finite point centres the
# decision boundary (Theorem 2's symmetric data) and when it does not.
#
# `msanalysis.simulate.simulate` runs GD from w = 0, b = 0 on a named data set with the
# model σ(w·x + b), the loss summed over samples, and its gradient taken from
# `symbolic.grad_logit` (lambdified) through the chain rule of the linear score. It
# returns the trajectory and what it shows: convergence, the boundary against the
# hard-margin SVM (the max-margin separator, solved by scipy), the fit |w| ≈ a + c log t.

# %%
%matplotlib inline
import numpy as np
import sympy as sp
import matplotlib.pyplot as plt

from msanalysis import claims, symbolic
from msanalysis.figures.trajectories import figure_trajectories
from msanalysis.simulate import get_dataset, max_margin, simulate

ETA_VALUE = 1.5

# %% [markdown]
# ## 1. CE on the two segments of Figure 1
#
# Two parallel segments, offset so that symmetry alone does not fix the boundary's
# direction. The dashed line is the max-margin separator.

# %%
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

# %% [markdown]
# CE never converges: |w| grows without bound, about log t (a straight line against log t),
# while the angle to the max-margin normal keeps shrinking, slowly (like 1/log t). This is
# Soudry et al. (2018): on separable data GD with CE converges *in direction* to the
# max-margin separator. The paper's Theorem 1 says CE does not reach the robust boundary;
# the ledger row shows why that reading fails:

# %%
row = claims.theorem1_boundary()
print(f"{row.id}: {row.verdict.value}\n  paper: {row.paper}\n  derived: {row.derived}")

# %% [markdown]
# ## 2. MS on Theorem 2's data: a finite stationary point, centred
#
# Positives at x = 1, negatives at x = −1. MS (η = 3/2) converges: |w| stops, every sample
# sits at the ξ* of lesson 1, and the boundary is the max-margin one, x = 0.

# %%
ms_sym = simulate("paper-4pt", "ms", {"eta": ETA_VALUE})
ce_sym = simulate("paper-4pt", "ce")
for r in (ms_sym, ce_sym):
    print(f"{r.loss}: converged {r.converged}, w = {r.w[0]:.4f}, boundary {r.boundary:.2e} "
          f"(max margin {r.max_margin_boundary:.2e}), ξ of the samples {np.round(r.xi_final, 6)}")
print("ξ* of ms at η = 3/2:", ms_sym.xi_star, "| GD end point matches sympy's stationary point:",
      ms_sym.matches_symbolic)
assert ms_sym.converged and ms_sym.at_sample_stationary and not ce_sym.converged

# %% [markdown]
# ## 3. When MS does not centre the boundary
#
# Add one positive farther out: positives at 1 and 3, a negative at −1. The max-margin
# boundary is still x = 0 (it depends only on the closest points). MS wants *every* sample
# at ξ*, which two parameters (w, b) cannot give three distinct points; its stationary
# point balances the pulls instead, and the boundary moves.

# %%
ms_asym = simulate("asymmetric", "ms", {"eta": ETA_VALUE})
ce_asym = simulate("asymmetric", "ce")
for r in (ms_asym, ce_asym):
    print(f"{r.loss}: converged {r.converged}, boundary {r.boundary:+.6f}, max margin {r.max_margin_boundary:+.1e}")
row = claims.theorem2_general()
print(f"\n{row.id}: {row.verdict.value}\n  derived: {row.derived}")

# %% [markdown]
# `msanalysis.figures.trajectories.figure_trajectories` draws these four runs: |w| and the
# boundary against the step t.

# %%
figure_trajectories([ms_sym, ce_sym, ms_asym, ce_asym])

# %% [markdown]
# So Theorem 2's centring is a property of its symmetric two-point data, not of MS: on the
# asymmetric set MS converges to a boundary 0.196 off the centre, while CE (which never
# converges) keeps approaching the max-margin one.

# %% [markdown]
# ### Exercise 1
#
# Find MS's stationary point on the asymmetric data with sympy instead of gradient descent.
# `symbolic.linear_system("ms", ((1, 1), (3, 1), (-1, 0)), eta=ETA_VALUE)` gives the summed
# loss of points (x, label) with its gradients `grad_w`, `grad_b` in the symbols
# `symbolic.W`, `symbolic.B` and the `boundary` as an expression of them. Solve the
# gradient system with `sp.nsolve` and give the boundary as the float `answer_1`.

# %%
answer_1 = ...  # a float
### BEGIN SOLUTION
system = symbolic.linear_system("ms", ((1, 1), (3, 1), (-1, 0)), eta=ETA_VALUE)
w_star, b_star = sp.nsolve([system.grad_w, system.grad_b], [symbolic.W, symbolic.B], [0.5, 0.0], prec=30)
answer_1 = float(system.boundary.subs({symbolic.W: w_star, symbolic.B: b_star}))
answer_1
### END SOLUTION

# %% tags=["check"]
# Check exercise 1
assert abs(answer_1 - ms_asym.boundary) < 1e-8, f"{answer_1}; gradient descent ended at {ms_asym.boundary}"

# %% [markdown]
# ### Exercise 2
#
# Imbalanced data: five positives at x = 1 and one negative at x = −1 (data set
# `"imbalanced"`). Does MS (η = 3/2) centre the boundary there? Give the boundary it
# converges to as the float `answer_2`, and explain in a comment why the imbalance does or
# does not matter.

# %%
answer_2 = ...  # a float
### BEGIN SOLUTION
imbalanced = simulate("imbalanced", "ms", {"eta": ETA_VALUE})
# Only two distinct positions: (w, b) = (logit ξ*, 0) puts every sample at ξ*, where each
# sample's gradient is zero on its own, so the counts do not matter: centred at x = 0.
answer_2 = imbalanced.boundary
print(imbalanced.converged, imbalanced.at_sample_stationary)
answer_2
### END SOLUTION

# %% tags=["check"]
# Check exercise 2
# At (w, b) = (logit ξ*, 0) every sample has ξ = ξ*: check that this zeroes sympy's
# gradient of the imbalanced loss, and that its boundary is the answer.
xi_star = symbolic.stationary_points("ms", eta=ETA_VALUE)[0].xi
system = symbolic.linear_system("ms", ((1, 1),) * 5 + ((-1, 0),), eta=ETA_VALUE)
at = {symbolic.W: symbolic.logit(xi_star), symbolic.B: 0}
assert all(abs(sp.N(g.subs(at), 50)) < 1e-40 for g in (system.grad_w, system.grad_b))
expected = float(system.boundary.subs(at))
assert abs(answer_2 - expected) < 1e-8, f"{answer_2} is not {expected}"

# %% [markdown]
# ### Exercise 3
#
# The paper's proofs use the score 2(w·x + b) − 1 instead of w·x + b (`simulate(...,
# parametrisation="odd")`). Predict c in |w| ≈ a + c log t for CE on Theorem 2's data with
# that score (section 2 measured c ≈ 1 with the plain score) and give it as `answer_3`.

# %%
answer_3 = ...  # a number
### BEGIN SOLUTION
# With b at 1/2 every sample's logit is 2w, the loss 4 log(1 + e^(−2w)), so
# dw/dt ∝ e^(−2w), e^(2w) ∝ t and w ≈ (1/2) log t.
answer_3 = sp.Rational(1, 2)
answer_3
### END SOLUTION

# %% tags=["check"]
# Check exercise 3
odd = simulate("paper-4pt", "ce", parametrisation="odd")
assert not odd.converged and abs(float(answer_3) - odd.w_log_slope) < 0.05, f"measured slope {odd.w_log_slope:.3f}"

# %% [markdown]
# **Takeaway.** CE's iterates run off to infinity along the max-margin direction; MS's stop
# at a finite point where every sample would like ξ = ξ*. That point is the max-margin
# boundary when the data let every sample reach ξ* at once (two distinct positions), and
# generally is not otherwise.
