"""msanalysis: the paper "Multi-stationary point losses for robust model", put to the test.

Modules:
  losses    - the loss family, each loss defined once (backend-neutral).
  symbolic  - exact sympy derivations: gradients, stationary points, η thresholds.
  claims    - the claims ledger: each claim of the paper, derived and judged.
"""

__version__ = "0.1.0"
