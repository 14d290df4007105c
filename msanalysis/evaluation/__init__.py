"""Evaluation of trained networks: robust accuracy, the paper's tables and the masking audit.

- :mod:`~msanalysis.evaluation.robustness`: load a checkpoint, attack it, count correct answers.
- :mod:`~msanalysis.evaluation.tables`: Tables 1-2's grids, their CSV/Markdown, the paper's quoted
  numbers.
- :mod:`~msanalysis.evaluation.audit`: cheap gradient-masking checks (AutoAttack-style).

Imports :mod:`msanalysis.attacks` and :mod:`msanalysis.training`; never the commands.
"""
