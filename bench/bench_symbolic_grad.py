"""Logit gradients of the MS loss (eq. 7): the lambdified sympy expression against torch
autograd, on the same float64 logits (N = 512; K = 10 and 1000).

The symbolic side evaluates ∂ℓ/∂o_true(ξ) and ∂ℓ/∂o_j(ξ, p_j) from msanalysis.symbolic; the
reference runs the torch form forward and backward. Both produce the full (N, K) gradient,
and the script checks they agree before timing.

Run from the checkout root:  PYTHONPATH=.:bench python bench/bench_symbolic_grad.py
"""

from __future__ import annotations

import numpy as np
import sympy as sp
import torch
from _timing import timed

from msanalysis import symbolic as S
from msanalysis.losses import get_loss
from msanalysis.numeric import true_class_from_logits as numpy_view
from msanalysis.training.losses import true_class_from_logits as torch_view

ETA = 1.5


def symbolic_gradient() -> callable:
    g_true = sp.lambdify(S.XI, S.grad_logit("ms", "true", eta=ETA), "numpy")
    g_other = sp.lambdify((S.XI, S.P_OTHER), S.grad_logit("ms", "other", eta=ETA), "numpy")

    def grad(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        xi = numpy_view(logits, target).p
        out = g_other(xi[:, None], probs)
        out[np.arange(len(target)), target] = g_true(xi)
        return out

    return grad


def autograd_gradient(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    o = logits.detach().requires_grad_(True)
    loss = get_loss("ms").bind(eta=ETA)(torch_view(o, target)).sum()
    (grad,) = torch.autograd.grad(loss, o)
    return grad


def main() -> None:
    torch.manual_seed(0)
    grad = symbolic_gradient()
    print(
        "| K | sympy lambdified min / median ms | torch autograd min / median ms | ratio "
        "(median) | max abs diff |"
    )
    print("|---|---|---|---|---|")
    for k in (10, 1000):
        logits = torch.randn(512, k, dtype=torch.float64) * 3
        target = torch.randint(0, k, (512,))
        o_np, y_np = logits.numpy(), target.numpy()
        diff = np.abs(grad(o_np, y_np) - autograd_gradient(logits, target).numpy()).max()
        s_min, s_med = timed(lambda o=o_np, y=y_np: grad(o, y))
        t_min, t_med = timed(lambda o=logits, y=target: autograd_gradient(o, y))
        print(
            f"| {k} | {s_min * 1e3:.3f} / {s_med * 1e3:.3f} | {t_min * 1e3:.3f} / "
            f"{t_med * 1e3:.3f} | {s_med / t_med:.2f} | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
