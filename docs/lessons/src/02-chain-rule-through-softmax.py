# %% [markdown]
# # Lesson 2: from ξ to logits, the chain rule through the softmax
#
# **Paper.** *Multi-stationary point losses for robust model*, anonymous submission to ICLR 2023
# on OpenReview (withdrawn); [arXiv:2302.09575](https://arxiv.org/abs/2302.09575).
#
# **Uses.** Eq. 1 (ξ = softmax(o)_y), eq. 7 (`ms`) and eq. 4 (`ms-focal`), the printed gradients
# eqs. 8 and 5, and Figure 2 (recomputed by the package).
#
# **Prerequisites.** Lesson 1 (dℓ/dξ of eq. 7); partial derivatives, the quotient and chain
# rules; torch tensors and `torch.autograd.grad`. **Time.** About 50 minutes.
#
# **Learning goal.** Derive the softmax Jacobian and the gradient of a loss of ξ with respect to
# the logits (true class and other classes) by hand; confirm it against torch autograd; see why
# CE's only stationary point is at infinity; and find where the paper's printed gradients
# (eqs. 8 and 5) go wrong.
#
# A network outputs logits o₁ … o_K; ξ = e^{o_y} / Σ_k e^{o_k} for the true class y. So
# dℓ/do = dℓ/dξ · ∂ξ/∂o, and everything hinges on the softmax Jacobian.

# %%
# %matplotlib inline
import sys

sys.path.insert(0, "..")  # the solutions notebooks find lesson_checks.py one folder up

import lesson_checks as checks
import numpy as np
import sympy as sp
import torch

from msanalysis import figures, losses, paper, symbolic
from msanalysis.losses import get_loss
from msanalysis.symbolic import ETA, P_OTHER, XI
from msanalysis.training.losses import true_class_from_logits

ETA_VALUE = sp.nsimplify(losses.ETA.default)  # the paper's η = 3/2

# %% [markdown]
# ## 1. The softmax Jacobian, by hand
#
# ### Exercise 1
#
# Differentiate ξ = e^{o_y} / Σ_k e^{o_k} with respect to the true logit o_y and with respect to
# another logit o_j (j ≠ y), and write both results in ξ and p_j = e^{o_j} / Σ_k e^{o_k}. First
# in LaTeX below, then as `answer_1 = (d_true, d_other)`, sympy expressions of `XI` and
# `P_OTHER`.

# %% [markdown]
# *Your derivation (LaTeX):*
# ### BEGIN SOLUTION
# With S = Σ_k e^{o_k}, the quotient rule gives
# $$\frac{\partial \xi}{\partial o_y} = \frac{e^{o_y} S - e^{o_y} e^{o_y}}{S^2} = \xi(1 - \xi),
# \qquad \frac{\partial \xi}{\partial o_j} = \frac{0 - e^{o_y} e^{o_j}}{S^2} = -\xi p_j .$$
# ### END SOLUTION

# %%
answer_1 = ...  # (d_true, d_other)
### BEGIN SOLUTION
answer_1 = (XI * (1 - XI), -XI * P_OTHER)
answer_1
### END SOLUTION

# %% tags=["check"]
# Check exercise 1
d_true, d_other = symbolic.softmax_jacobian()
if checks.answered(1, answer_1):
    mine_true, mine_other = checks.unpack(answer_1, 2, shape="(d_true, d_other)")
    swapped = "this is the other derivative: the pair is (∂ξ/∂o_y, ∂ξ/∂o_j)"
    checks.exact(
        mine_true,
        d_true,
        what="d_true",
        mistakes=[
            (d_other, swapped),
            (XI, "only the numerator's derivative: S depends on o_y too (quotient rule)"),
        ],
    )
    checks.exact(
        mine_other,
        d_other,
        what="d_other",
        mistakes=[
            (d_true, swapped),
            (-P_OTHER, "missing a factor: write e^{o_y} e^{o_j} / S² in ξ and p_j"),
            (0, "the numerator e^{o_y} does not depend on o_j, but S does"),
        ],
    )
    checks.correct(1)

# %% tags=["mistakes"]
mistakes_1 = [
    ((-XI * P_OTHER, XI * (1 - XI)), "the other derivative"),
    ((XI, -XI * P_OTHER), "quotient rule"),
    ((XI * (1 - XI), XI * P_OTHER), "wrong sign"),
    ((XI * (1 - XI), -P_OTHER), "missing a factor"),
    (XI * (1 - XI), "expected a tuple"),
    (("xi*(1 - xi)", -XI * P_OTHER), "got a string"),
    ((sp.Rational(1, 4), -XI * P_OTHER), "depends on xi"),
]

# %% [markdown]
# The package's `softmax_jacobian()` differentiates a softmax of the true logit, one other logit
# and a remainder standing for all other classes, so its result holds for every K ≥ 2:

# %%
print("∂ξ/∂o_y =", d_true, "   ∂ξ/∂o_j =", d_other)

# %% [markdown]
# ## 2. The chain rule
#
# ### Exercise 2
#
# Multiply your dℓ/dξ of eq. 7 from lesson 1 by ∂ξ/∂o_y: give the gradient of eq. 7 with respect
# to the true logit, dℓ/do_y, as `answer_2` (an expression of `XI` and `ETA`; typed, not from
# the package).

# %%
answer_2 = ...  # an expression of XI and ETA
### BEGIN SOLUTION
answer_2 = (-1 / XI + 2 * ETA * (2 * XI - 1)) * XI * (1 - XI)
answer_2
### END SOLUTION

# %% tags=["check"]
# Check exercise 2
if checks.answered(2, answer_2):
    checks.exact(
        answer_2,
        symbolic.grad_logit("ms", "true"),
        mistakes=[
            (paper.PRINTED["eq. 8"], "this is the printed eq. 8, not the derivative (section 4)"),
            (symbolic.grad_xi("ms"), "this is dℓ/dξ: multiply by ∂ξ/∂o_y"),
            (symbolic.grad_xi("ms") * d_other, "you used ∂ξ/∂o_j, the other logit's derivative"),
        ],
    )
    checks.correct(2)

# %% tags=["mistakes"]
mistakes_2 = [
    (paper.PRINTED["eq. 8"], "printed eq. 8"),
    (symbolic.grad_xi("ms"), "multiply by"),
    (-symbolic.grad_logit("ms", "true"), "wrong sign"),
    (symbolic.grad_xi("ms") * d_other, "other logit"),
    ("(1 - xi)*(2*eta*xi*(2*xi - 1) - 1)", "got a string"),
    (symbolic.grad_logit("ms", "true").subs(ETA, 1.5), "not a float"),
]

# %% [markdown]
# The package gives the same, and the gradient for another class j:

# %%
by_hand = symbolic.grad_xi("ms") * d_true
assert sp.simplify(by_hand - symbolic.grad_logit("ms", "true")) == 0
sp.factor(symbolic.grad_logit("ms", "true")), symbolic.grad_logit("ms", "other")

# %% [markdown]
# Two things to notice. The true-class gradient carries the factor ξ(1 − ξ) from the Jacobian,
# so it vanishes as ξ → 1 whatever dℓ/dξ does there. And each other logit gets −p_j/(1 − ξ)
# times the true-class gradient; since the p_j of the other classes sum to 1 − ξ, the K
# gradients sum to zero (adding a constant to all logits changes nothing).
#
# ## 3. Why CE has no stationary point in (0, 1)
#
# Training moves the logits, not ξ directly. For CE the chain rule gives dℓ/do_y = ξ − 1,
# negative for every ξ in (0, 1): gradient descent always raises the true logit, and the
# gradient only tends to 0 as ξ → 1, i.e. o_y → ∞: CE's single, *asymptotic* stationary point.
# The sign is proved by writing ξ = 1/(1 + t), which sweeps (0, 1) once as t runs over (0, ∞).

# %%
t = sp.Symbol("t", positive=True)
g_ce = symbolic.grad_logit("ce")
negative = sp.simplify(g_ce.subs(XI, 1 / (1 + t))).is_negative
print(f"dℓ/do_y (CE) = {g_ce}; negative on (0, 1): {negative}")
print("limit as ξ → 1:", symbolic.asymptotic_gradient("ce"))
assert negative

# %% [markdown]
# Eq. 7 keeps that asymptotic point (its logit gradient has the factor 1 − ξ) and adds the
# finite one, ξ* of lesson 1: hence "two stationary points".

# %%
print("limit as ξ → 1 at η = 3/2:", symbolic.asymptotic_gradient("ms", eta=ETA_VALUE))

# %% [markdown]
# **Binary case.** With one logit z and ξ = σ(z), d/dz ℓ(σ(z)) must equal the K-class true-logit
# gradient (K = 2 is the logit difference). The difference, simplified by sympy:

# %%
for name in ("ce", "ms", "centred-ce"):
    print(name, "d/dz ℓ(σ(z)) − grad_logit:", symbolic.binary_logit_gradient_check(name))

# %% [markdown]
# ## 4. Against torch autograd
#
# `true_class_from_logits` turns a batch of logits and labels into what a loss of ξ needs (ξ
# and a numerically stable log ξ, from a log-softmax); the package's single definition of the
# loss (`get_loss("ms").bind(eta=...)`) is applied to it and autograd differentiates. Then the
# sympy gradients are evaluated at the same ξ and p_j.

# %%
N, K, eta = 6, 10, losses.ETA.default
generator = torch.Generator().manual_seed(0)
logits = (3 * torch.randn(N, K, generator=generator, dtype=torch.float64)).requires_grad_()
target = torch.randint(0, K, (N,), generator=generator)

ms_loss = get_loss("ms").bind(eta=eta)
batch_loss = ms_loss(true_class_from_logits(logits, target)).sum()
(autograd,) = torch.autograd.grad(batch_loss, logits)

probs = torch.softmax(logits, -1).detach().numpy()
rows = np.arange(N)
xi = probs[rows, target]
true_fn = sp.lambdify(XI, symbolic.grad_logit("ms", "true", eta=eta), "numpy")
other_fn = sp.lambdify((XI, P_OTHER), symbolic.grad_logit("ms", "other", eta=eta), "numpy")
derived = other_fn(xi[:, None], probs)
derived[rows, target] = true_fn(xi)

print("max |autograd − derived| =", np.abs(autograd.numpy() - derived).max())
print("largest |row sum| of the gradient:", autograd.sum(dim=1).abs().max().item())
# float64 throughout: agreement to ~1e-12 is rounding, anything larger a wrong formula.
assert np.allclose(autograd.numpy(), derived, rtol=1e-10, atol=1e-12)

# %% [markdown]
# ## 5. What the paper prints
#
# `msanalysis.paper.PRINTED_GRADIENTS` transcribes the paper's gradients with respect to the
# true logit, typos included: eq. 8 for eq. 7 and eq. 5 for MS-focal (eq. 4). Compare eq. 8 with
# the derivation:

# %%
eq, printed = paper.PRINTED_GRADIENTS["ms"]
derived_ms = symbolic.grad_logit("ms")
print(f"{eq} printed:", printed)
print("derived:      ", sp.factor(derived_ms))
print("printed − derived =", sp.factor(sp.simplify(printed - derived_ms)))

# %% [markdown]
# The difference is not zero. Autograd sides with the derivation:

# %%
printed_fn = sp.lambdify(XI, printed.subs(ETA, ETA_VALUE), "numpy")
print("autograd   :", autograd.numpy()[rows, target].round(6))
print("eq. 8 value:", printed_fn(xi).round(6))

# %% [markdown]
# The package's claims ledger (`python -m msanalysis verify`) records each printed gradient
# with two computed facts: whether it equals the derivation, and whether what the paper
# concludes from it still holds.
#
# ## 6. Exercises
#
# ### Exercise 3
#
# With the chain rule, give the gradient of CE with respect to a logit o_j of a class that is
# *not* the true one as `answer_3`, an expression of `XI` and/or `P_OTHER`. Does it look
# familiar?

# %%
answer_3 = ...  # an expression of XI and/or P_OTHER
### BEGIN SOLUTION
# dℓ/dξ = −1/ξ times ∂ξ/∂o_j = −ξ p_j: p_j, the "softmax minus one-hot" rule for j ≠ y.
answer_3 = P_OTHER
answer_3
### END SOLUTION

# %% tags=["check"]
# Check exercise 3
if checks.answered(3, answer_3):
    checks.exact(
        answer_3,
        symbolic.grad_logit("ce", "other"),
        mistakes=[(g_ce, "this is the true logit's gradient, ξ − 1")],
    )
    checks.correct(3)

# %% tags=["mistakes"]
mistakes_3 = [
    (XI - 1, "true logit"),
    (-P_OTHER, "wrong sign"),
    ("p_j", "got a string"),
    (XI * P_OTHER, "contains xi"),
    (2 * P_OTHER, "constant factor"),
]

# %% [markdown]
# ### Exercise 4
#
# MS-focal (eq. 4) with η = 3/2, α = 1, γ = 2: compute with torch autograd the gradient of the
# summed loss with respect to the true-class logits of the batch `logits`, `target` above (use
# `get_loss("ms-focal").bind(...)` and `true_class_from_logits`), evaluate the printed eq. 5
# (`paper.PRINTED_GRADIENTS["ms-focal"]`) at the same ξ, and give
# `answer_4 = max |printed − autograd|` over the batch.

# %%
answer_4 = ...  # a float
### BEGIN SOLUTION
focal_params = {"eta": losses.ETA.default, "alpha": 1, "gamma": 2}
focal_loss = get_loss("ms-focal").bind(**focal_params)
focal_batch = focal_loss(true_class_from_logits(logits, target)).sum()
(focal_grad,) = torch.autograd.grad(focal_batch, logits)
_, printed_5 = paper.PRINTED_GRADIENTS["ms-focal"]
values = {ETA: ETA_VALUE, symbolic.ALPHA: 1, symbolic.GAMMA: 2}
printed_5_fn = sp.lambdify(XI, printed_5.subs(values), "numpy")
answer_4 = float(np.abs(printed_5_fn(xi) - focal_grad.numpy()[rows, target]).max())
answer_4
### END SOLUTION

# %% tags=["check"]
# Check exercise 4
values = {ETA: ETA_VALUE, symbolic.ALPHA: 1, symbolic.GAMMA: 2}
derived_5 = symbolic.grad_logit("ms-focal", eta=ETA_VALUE, alpha=1, gamma=2)
gap_5 = sp.lambdify(XI, (paper.PRINTED_GRADIENTS["ms-focal"][1] - derived_5).subs(values))
gap_8 = float(np.abs(printed_fn(xi) - true_fn(xi)).max())
if checks.answered(4, answer_4):
    expected_gap = float(np.abs(gap_5(xi)).max())
    # autograd and the lambdified sympy gradient agree to ~1e-12 in float64 (section 4).
    checks.approx(
        answer_4,
        expected_gap,
        tol=1e-9 * max(1.0, expected_gap),
        interval=(0, np.inf),
        mistakes=[(gap_8, "this is eq. 8's gap (for eq. 7), not eq. 5's (MS-focal)")],
    )
    checks.correct(4)

# %% tags=["mistakes"]
mistakes_4 = [
    (gap_8, "eq. 8's gap"),
    (-float(np.abs(gap_5(xi)).max()), "not in (0, inf)"),
    ("0.1", "got a string"),
    ([0.1], "got a list"),
    (2 * float(np.abs(gap_5(xi)).max()), "too large"),
]

# %% [markdown]
# ### Exercise 5
#
# At η = 3/2, where does the printed eq. 8 vanish in (0, 1), and where does the derived gradient
# of eq. 7 vanish? Give `answer_5 = (printed_root, true_root)` as exact sympy numbers
# (`symbolic.roots_in_unit_interval` finds the zeros of any expression of ξ in (0, 1)).

# %%
answer_5 = ...  # (printed_root, true_root)
### BEGIN SOLUTION
(printed_root,) = symbolic.roots_in_unit_interval(printed.subs(ETA, ETA_VALUE))
(true_root,) = symbolic.stationary_points("ms", eta=ETA_VALUE)
answer_5 = (printed_root.xi, true_root.xi)
answer_5
### END SOLUTION

# %% tags=["check"]
# Check exercise 5
(printed_zero,) = symbolic.roots_in_unit_interval(printed.subs(ETA, ETA_VALUE))
(true_zero,) = symbolic.stationary_points("ms", eta=ETA_VALUE)
swapped = "this is the other root: the pair is (printed_root, true_root)"
if checks.answered(5, answer_5):
    mine_printed, mine_true = checks.unpack(answer_5, 2, shape="(printed_root, true_root)")
    checks.exact(
        mine_printed,
        printed_zero.xi,
        what="printed_root",
        interval=(0, 1),
        mistakes=[(true_zero.xi, swapped)],
    )
    checks.exact(
        mine_true,
        true_zero.xi,
        what="true_root",
        interval=(0, 1),
        mistakes=[(printed_zero.xi, swapped)],
    )
    checks.correct(5)

# %% tags=["mistakes"]
mistakes_5 = [
    ((true_zero.xi, printed_zero.xi), "the other root"),
    ((float(printed_zero.xi), true_zero.xi), "not a float"),
    ((printed_zero.xi, -true_zero.xi), "not in (0, 1)"),
    (printed_zero.xi, "expected a tuple"),
    (("1/2", true_zero.xi), "got a string"),
]

# %% [markdown]
# Now compare your roots with the package's recomputed Figure 2 (`msanalysis.figures.figure2`):
# the derived gradients of CE, focal, MS-focal and eq. 7 next to the printed eqs. 5 and 8, from
# the same expressions.
#
# **What you should see.** Each printed curve (dashed) departs from its derived curve of the same
# colour, and crosses zero at a different ξ (hollow dots): the stationary point moves.

# %%
figures.figure2(eta=float(ETA_VALUE))

# %% [markdown]
# **Takeaway.** dℓ/do = dℓ/dξ · ∂ξ/∂o, with ∂ξ/∂o_y = ξ(1 − ξ) and ∂ξ/∂o_j = −ξ p_j. Check a
# derivation against autograd on the package's own loss; a printed gradient can be off by a
# factor and still lead to a similar conclusion, but its stationary point moves.
#
# ## Questions to think about
#
# 1. Why must the gradients with respect to all K logits sum to zero, for every loss of ξ?
# 2. The factor ξ(1 − ξ) makes every loss of ξ flat in the logit as ξ → 1. Why does that make
#    "the gradient got small" a poor test of convergence (lesson 3)?
# 3. Pezeshki et al. (2021) argue that CE's gradient ξ − 1 fades for samples already learned
#    ("gradient starvation"). What does eq. 7's gradient do to a sample with ξ > ξ*?

# %% [markdown]
# ### BEGIN SOLUTION
# **Discussion.**
# 1. ξ is unchanged when the same constant is added to every logit, so the directional
#    derivative along (1, …, 1) is zero: the entries of the gradient sum to zero.
# 2. Near ξ = 1 the logit gradient is tiny whether or not a stationary point exists (it is
#    ~(1 − ξ) for CE, which has none). A run can look converged while still diverging slowly;
#    lesson 3's sweep needs a criterion that does not rely on the size of the gradient.
# 3. For ξ > ξ* eq. 7's true-logit gradient is positive: descent *lowers* the true logit, pushing
#    the sample back to ξ*. Learned samples stop pulling, as under CE, but now they also push
#    back; whether that spreads learning to other features is an empirical question.
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
