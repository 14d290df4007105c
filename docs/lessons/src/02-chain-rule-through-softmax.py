# %% [markdown]
# # Lesson 2: from ξ to logits, the chain rule through the softmax
#
# **Learning goal.** Derive the gradient of a loss of ξ with respect to the logits, for the
# true class and for another class, binary and K-class; confirm it against torch autograd;
# and find where the paper's printed gradients (eqs. 5 and 8) go wrong, using the claims
# ledger.
#
# A network outputs logits o₁ … o_K; ξ = softmax(o)_y for the true class y. So
# dℓ/do = dℓ/dξ · ∂ξ/∂o, and everything hinges on the softmax Jacobian.

# %%
%matplotlib inline
import numpy as np
import sympy as sp
import torch

from msanalysis import claims, figures, paper, symbolic
from msanalysis.losses import get_loss
from msanalysis.symbolic import ETA, P_OTHER, XI
from msanalysis.training.losses import true_class_from_logits

# %% [markdown]
# ## 1. The softmax Jacobian
#
# `softmax_jacobian()` differentiates a softmax with the true logit, one other logit o_j and
# a remainder standing for all other classes, then writes the result in ξ and p_j (the
# probability of class j). It holds for every K ≥ 2.

# %%
d_true, d_other = symbolic.softmax_jacobian()
print("∂ξ/∂o_true =", d_true, "   ∂ξ/∂o_j =", d_other)

# %% [markdown]
# ## 2. The chain rule, by hand and by the package
#
# Multiply dℓ/dξ by the Jacobian and compare with `grad_logit`.

# %%
by_hand = symbolic.grad_xi("ms") * d_true
assert sp.simplify(by_hand - symbolic.grad_logit("ms", "true")) == 0
symbolic.grad_logit("ms", "true"), symbolic.grad_logit("ms", "other")

# %% [markdown]
# Two things to notice. The true-class gradient carries the factor ξ(1 − ξ) from the
# Jacobian, so it vanishes as ξ → 1 whatever dℓ/dξ does there (the asymptotic stationary
# point of lesson 1). And each other logit gets −p_j/(1 − ξ) times the true-class gradient;
# since the p_j of the other classes sum to 1 − ξ, the K gradients sum to zero (adding a
# constant to all logits changes nothing).
#
# **Binary case.** With one logit z and ξ = σ(z), d/dz ℓ(σ(z)) must equal the K-class
# true-logit gradient (K = 2 is the logit difference). The package checks it symbolically:

# %%
for name in ("ce", "ms", "centred-ce"):
    print(name, "d/dz ℓ(σ(z)) − grad_logit:", symbolic.binary_logit_gradient_check(name))

# %% [markdown]
# ## 3. Against torch autograd
#
# Build the `TrueClass` view of a batch of logits with the training code's
# `true_class_from_logits` (a stable log-softmax), apply the package's single definition of
# the loss (`get_loss("ms").bind(eta=...)`), and let autograd differentiate. Then evaluate
# the sympy gradients at the same ξ and p_j.

# %%
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

# %% [markdown]
# ## 4. What the paper prints
#
# `msanalysis.paper.PRINTED_GRADIENTS` transcribes the paper's gradients with respect to the
# true logit, typos included: eq. 8 for MS (eq. 7) and eq. 5 for MS-focal (eq. 4). Compare
# eq. 8 with the derived gradient.

# %%
eq, printed = paper.PRINTED_GRADIENTS["ms"]
derived_ms = symbolic.grad_logit("ms")
print(f"{eq} printed:", printed)
print("derived:      ", sp.factor(derived_ms))
print("printed − derived =", sp.factor(sp.simplify(printed - derived_ms)))

# %% [markdown]
# The stationary-point part lacks a factor ξ. Autograd sides with the derivation:

# %%
printed_fn = sp.lambdify(XI, printed.subs(ETA, sp.nsimplify(eta)), "numpy")
rows = np.arange(N)
print("autograd   :", autograd.numpy()[rows, target].round(6))
print("eq. 8 value:", printed_fn(xi).round(6))

# %% [markdown]
# The package's recomputed Figure 2 (`msanalysis.figures.figure2`) draws the derived
# gradients of CE, focal, MS-focal and MS next to the printed eqs. 5 and 8 (dashed), from
# the same expressions:

# %%
figures.figure2(eta=1.5)

# %% [markdown]
# ## 5. The claims ledger
#
# `msanalysis.claims` judges each claim of the paper by computing two facts: is the printed
# statement exactly the derived one, and if not, does what the paper concludes from it still
# hold? The rows for eqs. 8 and 5 (the whole ledger: `claims.ledger()`, or `msanalysis
# verify` on the command line):

# %%
for row in (claims.eq8_gradient(), claims.eq5_gradient()):
    print(f"{row.id} ({row.source}): {row.verdict.value}")
    print("   ", row.evidence, "\n")

# %% [markdown]
# HOLDS_WITH_CORRECTION: the printed gradients are wrong, but the conclusions drawn from them
# (one finite minimum, the same η threshold) survive the correction. The minimum itself
# moves, as exercise 3 shows.

# %% [markdown]
# ### Exercise 1
#
# Derive, with the chain rule (`symbolic.grad_xi` and `symbolic.softmax_jacobian`), the
# gradient of CE with respect to a logit o_j of a class that is *not* the true one. Give
# it as `answer_1`, an expression of `XI` and/or `P_OTHER`. Does the result look familiar?

# %%
answer_1 = ...  # an expression of XI and P_OTHER
### BEGIN SOLUTION
answer_1 = sp.simplify(symbolic.grad_xi("ce") * symbolic.softmax_jacobian()[1])
answer_1  # p_j: the familiar "softmax minus one-hot" rule of CE, for a class j ≠ y
### END SOLUTION

# %% tags=["check"]
# Check exercise 1
assert sp.simplify(answer_1 - symbolic.grad_logit("ce", "other")) == 0, answer_1

# %% [markdown]
# ### Exercise 2
#
# MS-focal (eq. 4) with η = 3/2, α = 1, γ = 2: compute with torch autograd the gradient of
# the summed loss with respect to the true-class logits of the batch `logits`, `target`
# above (use `get_loss("ms-focal").bind(...)` and `true_class_from_logits`), evaluate the
# printed eq. 5 (`paper.PRINTED_GRADIENTS["ms-focal"]`) at the same ξ, and give
# `answer_2 = max |printed − autograd|` over the batch.

# %%
answer_2 = ...  # a float
### BEGIN SOLUTION
focal_params = {"eta": 1.5, "alpha": 1, "gamma": 2}
focal_loss = get_loss("ms-focal").bind(**focal_params)
(focal_grad,) = torch.autograd.grad(focal_loss(true_class_from_logits(logits, target)).sum(), logits)
_, printed_5 = paper.PRINTED_GRADIENTS["ms-focal"]
values = {ETA: sp.Rational(3, 2), symbolic.ALPHA: 1, symbolic.GAMMA: 2}
printed_5_fn = sp.lambdify(XI, printed_5.subs(values), "numpy")
answer_2 = float(np.abs(printed_5_fn(xi) - focal_grad.numpy()[rows, target]).max())
answer_2
### END SOLUTION

# %% tags=["check"]
# Check exercise 2
_, printed_5 = paper.PRINTED_GRADIENTS["ms-focal"]
values = {ETA: sp.Rational(3, 2), symbolic.ALPHA: 1, symbolic.GAMMA: 2}
gap = sp.lambdify(XI, (printed_5 - symbolic.grad_logit("ms-focal", eta=1.5, alpha=1, gamma=2)).subs(values))
expected = float(np.abs(gap(xi)).max())
assert abs(answer_2 - expected) < 1e-9 * max(1.0, expected), f"{answer_2} is not {expected}"

# %% [markdown]
# ### Exercise 3
#
# At η = 3/2, where does the printed eq. 8 gradient vanish in (0, 1), and where does the
# true MS gradient vanish? Give `answer_3 = (printed_root, true_root)` as exact sympy
# numbers. (`symbolic.roots_in_unit_interval` finds the zeros of any expression of ξ.)

# %%
answer_3 = ...  # (printed_root, true_root)
### BEGIN SOLUTION
(printed_root,) = symbolic.roots_in_unit_interval(printed.subs(ETA, sp.Rational(3, 2)))
(true_root,) = symbolic.stationary_points("ms", eta=sp.Rational(3, 2))
answer_3 = (printed_root.xi, true_root.xi)
answer_3
### END SOLUTION

# %% tags=["check"]
# Check exercise 3
assert isinstance(answer_3, tuple) and len(answer_3) == 2, "give a pair (printed_root, true_root)"
(printed_expected,) = symbolic.roots_in_unit_interval(printed.subs(ETA, sp.Rational(3, 2)))
(true_expected,) = symbolic.stationary_points("ms", eta=sp.Rational(3, 2))
assert sp.simplify(sp.sympify(answer_3[0]) - printed_expected.xi) == 0, f"eq. 8 vanishes at {printed_expected.xi}"
assert sp.simplify(sp.sympify(answer_3[1]) - true_expected.xi) == 0, f"MS's gradient vanishes at {true_expected.xi}"

# %% [markdown]
# **Takeaway.** dℓ/do = dℓ/dξ · ∂ξ/∂o, with ∂ξ/∂o_true = ξ(1 − ξ) and ∂ξ/∂o_j = −ξ p_j.
# Check a derivation against autograd on the package's own loss; a printed gradient can be
# off by a factor and still lead to the right threshold, and the ledger says which.
