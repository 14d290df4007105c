# %% [markdown]
# # Lesson 5: does it make a network robust?
#
# **Paper.** *Multi-stationary point losses for robust model*, anonymous submission to ICLR 2023
# on OpenReview (withdrawn); [arXiv:2302.09575](https://arxiv.org/abs/2302.09575).
#
# **Uses.** Section 4.2 and Tables 1-2 (accuracy under FGSM and PGD attacks), eq. 7 (`ms`) with
# Figure 5's η = 3/2; the gradient-masking advice of Carlini et al. (2019) and Croce and Hein
# (2020).
#
# **Prerequisites.** Lessons 1 and 2 (ξ* and the sign of dℓ/dξ); PyTorch basics (a model maps
# images to logits); what an adversarial example is. **Time.** About 45 minutes, a few of them
# training on a CPU.
#
# **Learning goal.** Train the same small CNN on Fashion-MNIST with CE and with eq. 7, attack
# both with FGSM and PGD, decide whether a difference in robust accuracy is larger than the
# noise of the test sample, and read the gradient-masking checks before believing any
# robustness number.
#
# **Data.** Fashion-MNIST (Xiao, Rasul and Vollgraf 2017,
# [arXiv:1708.07747](https://arxiv.org/abs/1708.07747)): 70000 greyscale 28 × 28 images of
# clothing in 10 classes (60000 for training, 10000 for testing). Nothing is downloaded:
# `load_dataset` reads the official IDX files from `$MSANALYSIS_DATA_DIR/fashion-mnist`, or
# from Debian's package `dataset-fashion-mnist` (`apt-get install dataset-fashion-mnist` puts
# them in `/usr/share/datasets/fashion-mnist`).
#
# Everything runs on a CPU. The sizes below give a run of a few minutes on a laptop; lower them
# for a quicker look (the test of this notebook runs it with 2000 images and one epoch, where
# the numbers mean little). Checkpoints are kept in `RUN_DIR`, so re-running the notebook
# reuses them instead of training again.

# %% tags=["parameters"]
N_TRAIN = 60000  # training images (Fashion-MNIST has 60000)
EPOCHS = 3
N_TEST = 500  # test images to evaluate and attack
N_AUDIT = 200  # of those, how many the gradient-masking audit attacks (its cost)
ATTACK_STEPS = 40  # PGD steps (Section 4.2 of the paper uses 40)
RUN_DIR = "runs"  # checkpoints live here

# %%
import inspect
import sys
from pathlib import Path

sys.path.insert(0, "..")  # the solutions notebooks find lesson_checks.py one folder up

import lesson_checks as checks
import matplotlib.pyplot as plt
import torch

from msanalysis import losses, symbolic
from msanalysis.attacks import FGSM, PGD, family_objective
from msanalysis.attacks.evaluate import correct_under, paired_noise_margin
from msanalysis.evaluation.audit import (
    AuditSettings,
    format_report,
    gradient_statistics,
    run_audit,
    summarise,
)
from msanalysis.training.data import load_dataset, to_float
from msanalysis.training.train import TrainConfig, fit, load_checkpoint

ETA = losses.ETA.default  # the paper's η = 3/2 (Figure 5)

# %% [markdown]
# ## 1. Train with CE and with eq. 7
#
# `fit` trains a configuration into a folder (Adam, seeded, resumable); `load_checkpoint`
# rebuilds the trained network. Both models see the same images in the same order.

# %%
models = {}
for loss, params in {"ce": {}, "ms": {"eta": ETA}}.items():
    config = TrainConfig(
        dataset="fashion-mnist",
        model="small-cnn",
        loss=loss,
        loss_params=params,
        epochs=EPOCHS,
        limit_train=N_TRAIN,
        limit_test=N_TEST,
        seed=0,
    )
    out = Path(RUN_DIR) / f"{loss}-train{N_TRAIN}-test{N_TEST}"
    fit(config, out, progress=False)
    models[loss], meta = load_checkpoint(out / "last.pt")
    print(f"{loss}: {meta['epoch']} epochs, test accuracy {meta['metrics'][-1]['test_acc']:.4f}")

test = load_dataset("fashion-mnist", "test", limit=N_TEST)
images, labels = to_float(test.images), test.labels

# %% [markdown]
# ## 2. Attack both
#
# An attack looks for a perturbation δ with every pixel changed by at most ε (|δ|∞ ≤ ε) that
# makes the model wrong. FGSM (Goodfellow et al. 2015) takes one step of size ε along the sign of
# the input gradient; PGD (Madry et al. 2018) takes `steps` steps of size `alpha` from a random
# start in the ε-ball, projecting back into it after each. The package's attacks are classes
# built on a model; calling one on (images, labels) returns the attacked images. PGD's options:

# %%
print("PGD" + str(inspect.signature(PGD.__init__)).replace("self, ", ""))

# %% [markdown]
# `objective` is what the attack *ascends*: `"ce"` (the default), `"margin"` (the logit margin),
# or a callable such as `family_objective("ms", eta=ETA)`, the loss of eq. 7 itself, e.g.
# `PGD(model, eps=8 / 255, steps=40, seed=0, objective=family_objective("ms", eta=ETA))`.
# The paper's settings: FGSM with ε = 0.007, PGD with ε = 8/255. `correct_under` says, per image,
# whether the model is right both clean and attacked.

# %%
attacks = {
    "FGSM ε=0.007": lambda m: FGSM(m, eps=0.007),
    "FGSM ε=8/255": lambda m: FGSM(m, eps=8 / 255),
    "PGD ε=8/255": lambda m: PGD(m, eps=8 / 255, steps=ATTACK_STEPS, seed=0),
}
correct = {}
for loss, m in models.items():
    correct[loss] = {"clean": correct_under(m, images, labels)}
    for name, make in attacks.items():
        correct[loss][name] = correct_under(m, images, labels, make(m))
print(f"{'':14}" + "".join(f"{loss:>8}" for loss in models))
for name in correct["ce"]:
    accuracies = [correct[loss][name].float().mean().item() for loss in models]
    print(f"{name:14}" + "".join(f"{a:8.3f}" for a in accuracies))

# %% [markdown]
# Both models are tested on the same images, so a difference in accuracy is a mean of paired
# differences; `paired_noise_margin` gives its 95% half-width. A gain smaller than that margin
# is not evidence.
#
# ### Exercise 1
#
# Under PGD, what is eq. 7's gain in robust accuracy over CE (`ms` minus `ce`, as a fraction),
# and does it exceed the paired 95% noise margin? Give `answer_1 = (gain, survives)`, a float
# and a bool.

# %%
answer_1 = ...  # (float, bool)
### BEGIN SOLUTION
ms_pgd, ce_pgd = correct["ms"]["PGD ε=8/255"], correct["ce"]["PGD ε=8/255"]
gain = (ms_pgd.float().mean() - ce_pgd.float().mean()).item()
margin = paired_noise_margin(ms_pgd, ce_pgd)
answer_1 = (gain, gain > margin)
print(f"gain {gain:+.4f}, noise margin {margin:.4f}")
answer_1
### END SOLUTION

# %% tags=["check"]
# Check exercise 1
pgd_ms, pgd_ce = correct["ms"]["PGD ε=8/255"], correct["ce"]["PGD ε=8/255"]
expected_gain = (pgd_ms.float().mean() - pgd_ce.float().mean()).item()
clean_gain = (correct["ms"]["clean"].float().mean() - correct["ce"]["clean"].float().mean()).item()
if checks.answered(1, answer_1):
    my_gain, my_survives = checks.unpack(answer_1, 2, shape="(gain, survives)")
    # both sides are means of the same boolean tensors: only float rounding can differ
    checks.approx(
        my_gain,
        expected_gain,
        tol=1e-6,
        what="gain",
        mistakes=[(clean_gain, "this is the clean accuracy's gain, not under PGD")],
    )
    checks.boolean(
        my_survives,
        expected_gain > paired_noise_margin(pgd_ms, pgd_ce),
        what="survives",
        hint="is the gain larger than paired_noise_margin(ms, ce)?",
    )
    checks.correct(1)

# %% tags=["mistakes"]
survives = expected_gain > paired_noise_margin(pgd_ms, pgd_ce)
mistakes_1 = [
    (("0.1", True), "got a string"),
    ((torch.tensor(expected_gain), survives), "got a Tensor"),
    ((expected_gain, "yes"), "expected True or False"),
    ((expected_gain, not survives), "the wrong way round"),
    ((expected_gain + 0.5, survives), "too large"),
    (expected_gain, "expected a tuple"),
]

# %% [markdown]
# ## 3. Could the numbers be lying? Gradient masking
#
# An attack that follows gradients fails when the gradients are useless (zero, or a saturated
# softmax), and a model can then *look* robust without being so (Carlini et al. 2019; Croce and
# Hein 2020). The cheap signs first: exactly-zero input gradients and saturated softmax outputs
# at the clean images.

# %%
for loss, m in models.items():
    stats = gradient_statistics(m, images, labels)
    print(loss, {k: round(v, 4) for k, v in stats.items()})

# %% [markdown]
# Then the audit: the eq. 7 model against the CE model as reference, under stronger and
# different attacks, each decided from the numbers with the same noise margins (on the first
# `N_AUDIT` test images, so its margins are wider than section 2's). Its attacks, by name:
#
# - `pgdN-ce`: PGD with N steps ascending CE, the baseline white-box attack.
# - `pgd2N-ce`: twice the steps; accuracy must not *rise* with a stronger attack.
# - `pgdN-ce-xR`: R random restarts, keeping each image's worst; a masked gradient often falls
#   to a lucky start.
# - `pgdN-margin`: PGD ascending the logit margin (Carlini and Wagner's objective), which does
#   not saturate with the softmax as CE does.
# - `apgdN-ce`, `apgdN-dlr`: Auto-PGD (Croce and Hein 2020), PGD with an adaptive step size,
#   with CE and with the scale-invariant DLR loss.
# - `pgdN-ce-on-probabilities`: PGD crafted on the softmax outputs as if they were logits; a
#   model that is only robust because its logits are huge falls to it.
# - `squareQ`: the Square attack (Andriushchenko et al. 2020), a black-box random search that
#   uses outputs only (when torchattacks is installed); if it beats the white-box attacks, the
#   gradients are masked.
# - `transfer-pgdN-ce-from-reference`: images attacked on the CE model, shown to the eq. 7 model.
# - `sweep-epsE/255`: PGD at growing ε up to 255/255, the whole image box, where any working
#   attack must reach 0%.

# %%
settings = AuditSettings(
    steps=ATTACK_STEPS,
    long_steps=2 * ATTACK_STEPS,
    restarts=2,
    apgd_steps=ATTACK_STEPS,
    square_queries=5 * ATTACK_STEPS,
    sweep=(2, 8, 32, 255),
    sweep_steps=max(ATTACK_STEPS // 2, 2),
)
run = run_audit(models["ms"], images[:N_AUDIT], labels[:N_AUDIT], settings, reference=models["ce"])
summary = summarise(run, settings)

print(format_report(summary))  # model: MS, reference: CE; accuracies in %

# %% [markdown]
# **What you should see.** Robust accuracy under PGD against ε for both models, on a log scale:
# both curves fall, and reach 0 at ε = 1 (the whole image box). A curve that stays above 0
# there means the attack, not the model, is failing.

# %%
sweep = [f"sweep-eps{e}/255" for e in settings.sweep]
fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
for role, name in (("model", "eq. 7 (ms)"), ("reference", "CE")):
    accuracy = [summary["accuracy"][role][k] for k in sweep]
    ax.plot([e / 255 for e in settings.sweep], accuracy, "o-", label=name)
ax.set(xscale="log", xlabel="ε (L∞ radius, image range [0, 1])", ylabel="robust accuracy (PGD)")
ax.set_ylim(-0.02, 1.02)
fig.legend(loc="outside right upper")
plt.show()

# %% [markdown]
# Read the table and the checks together: a gain that only shows under one attack, a model that
# gets *more* accurate with more attack steps, or a white-box attack beaten by a black-box one
# would each point to masking rather than robustness.
#
# ### Exercise 2
#
# An attack ascends an objective. Attacking the eq. 7 model with its own training loss
# (`family_objective("ms", eta=ETA)`) instead of CE is tempting but misleading: by lesson 1,
# dℓ/dξ > 0 for ξ > ξ*, so for an image whose true-class probability ξ is already above ξ*,
# ascending the loss of eq. 7 *raises* ξ, away from the boundary. Which fraction of the test
# images have ξ > ξ* under the eq. 7 model? Give it as the float `answer_2` (use
# `symbolic.stationary_points` for ξ*), then compare PGD's accuracy with the two objectives.

# %%
answer_2 = ...  # a float in [0, 1]
### BEGIN SOLUTION
xi_star = float(symbolic.stationary_points("ms", eta=ETA)[0].xi)
with torch.no_grad():
    xi = torch.softmax(models["ms"](images), dim=1).gather(1, labels[:, None]).squeeze(1)
answer_2 = (xi > xi_star).float().mean().item()
own_objective = family_objective("ms", eta=ETA)
own_attack = PGD(models["ms"], eps=8 / 255, steps=ATTACK_STEPS, seed=0, objective=own_objective)
own = correct_under(models["ms"], images, labels, own_attack)
print(f"ξ* = {xi_star:.4f}; fraction above: {answer_2:.3f}")
print(f"PGD accuracy with the eq. 7 objective {own.float().mean():.3f}")
print(f"PGD accuracy with the CE objective {correct['ms']['PGD ε=8/255'].float().mean():.3f}")
answer_2
### END SOLUTION

# %% tags=["check"]
# Check exercise 2
(point,) = symbolic.stationary_points("ms", eta=ETA)
with torch.no_grad():
    probs = torch.softmax(models["ms"](images), dim=1)
above = (probs[torch.arange(len(labels)), labels] > float(point.xi)).float().mean().item()
if checks.answered(2, answer_2):
    # a mean of booleans, computed the same way: only float rounding can differ
    checks.approx(
        answer_2,
        above,
        tol=1e-6,
        mistakes=[(1 - above, "this is the fraction at or below ξ*")],
    )
    checks.correct(2)

# %% tags=["mistakes"]
mistakes_2 = [
    (torch.tensor(above), "got a Tensor"),
    ("0.5", "got a string"),
    ([above], "got a list"),
    (above + 2, "too large"),
    (above - 2, "too small"),
]

# %% [markdown]
# ### Exercise 3
#
# From the audit summary: list the names of the checks the eq. 7 model fails (sorted), and say
# whether its gain over CE survives the worst case over all attacks (the `worst-case` row).
# Give `answer_3 = (failed_checks, worst_case_gain_survives)`.

# %%
answer_3 = ...  # (sorted list of str, bool)
### BEGIN SOLUTION
failed = sorted(c["check"] for c in summary["checks"]["model"] if not c["passed"])
worst = next(row for row in summary["rows"] if row["attack"] == "worst-case")
answer_3 = (failed, worst["gain_survives"])
answer_3
### END SOLUTION

# %% tags=["check"]
# Check exercise 3
expected_failed = sorted(c["check"] for c in summary["checks"]["model"] if not c["passed"])
(worst_row,) = [row for row in summary["rows"] if row["attack"] == "worst-case"]
if checks.answered(3, answer_3):
    my_failed, my_survives = checks.unpack(answer_3, 2, shape="(failed_checks, survives)")
    checks.names(my_failed, expected_failed, what="failed_checks")
    checks.boolean(
        my_survives,
        worst_row["gain_survives"],
        what="survives",
        hint="read the 'worst-case' row's gain_survives",
    )
    checks.correct(3)

# %% tags=["mistakes"]
mistakes_3 = [
    ((sorted([*expected_failed, "no-such-check"]), worst_row["gain_survives"]), "not among them"),
    (("a-check", worst_row["gain_survives"]), "expected a list"),
    (([1, 2], worst_row["gain_survives"]), "must be a string"),
    ((expected_failed, not worst_row["gain_survives"]), "the wrong way round"),
    ((expected_failed, "yes"), "expected True or False"),
    (expected_failed, "expected a tuple"),
]

# %% [markdown]
# **Takeaway.** A robustness claim needs a difference larger than the test sample's noise, under
# the strongest of several attacks, with checks that rule out masked gradients. Run the notebook
# at full size before drawing conclusions about eq. 7; the `audit` command
# (`python -m msanalysis audit --help`) does the same on larger networks.
#
# ## Questions to think about
#
# 1. Why does a paired comparison (the same test images for both models) give a smaller noise
#    margin than comparing two independent accuracies?
# 2. Why would an evaluation that attacks a model with its own training loss overstate the
#    robustness of eq. 7, but not of CE?
# 3. If eq. 7 gave a gain under PGD that vanished under APGD-DLR, what would you conclude, and
#    what would you report?

# %% [markdown]
# ### BEGIN SOLUTION
# **Discussion.**
# 1. Most images are classified the same way by both models; they contribute zero to every
#    paired difference, so the variance comes only from the images where the models disagree.
#    Two independent accuracies each carry the full binomial noise of the sample.
# 2. CE's loss increases monotonically as ξ falls, so ascending it always moves towards the
#    boundary. Eq. 7's loss increases as ξ moves *away from ξ** in either direction: for images
#    above ξ* the ascent raises ξ (exercise 2), so the attack fails for reasons that have nothing
#    to do with robustness.
# 3. That the PGD gain came from the objective (e.g. a saturated softmax weakening CE-based
#    gradients), not from robustness: report the worst case over attacks, with its noise margin,
#    and say plainly that no robust gain survives.
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
# - I. Goodfellow, J. Shlens, C. Szegedy (2015), *Explaining and harnessing adversarial
#   examples* (FGSM), ICLR; [arXiv:1412.6572](https://arxiv.org/abs/1412.6572).
# - A. Madry et al. (2018), *Towards deep learning models resistant to adversarial attacks*
#   (PGD), ICLR; [arXiv:1706.06083](https://arxiv.org/abs/1706.06083).
# - M. Andriushchenko et al. (2020), *Square attack*, ECCV;
#   [arXiv:1912.00049](https://arxiv.org/abs/1912.00049).
