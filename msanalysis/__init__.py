"""msanalysis: the paper "Multi-stationary point losses for robust model", put to the test.

Module map, lowest layer first. A module imports only from the layers above it in this list
(or its own layer, never a layer below), and no library module imports :mod:`msanalysis.cli` or
:mod:`msanalysis.commands`.

Foundations (import nothing of the package):
  errors          - UsageError (exit 2) and InputError (exit 1), raised by the library.
  registry        - ``lookup``: one look-up and one "unknown X; choose one of" for registries.

The loss family (imports: foundations):
  losses          - every loss defined once, backend-neutral; the paper's settings are the
                    registry defaults (ETA, ALPHA, GAMMA).

Exact and float64 analysis, torch-free (imports: losses, foundations):
  symbolic        - sympy derivations: gradients, stationary points, η thresholds.
  paper           - the paper's printed equations (typos included) and quoted Tables 1-2.
  numeric         - the numpy form of the losses and its cross-checks.
  simulate        - full-batch GD on small linear models (Theorems 1-3 in practice).
  sweep           - the η threshold found by vectorised GD on a grid of η.
  ledger          - the claims ledger: each claim derived and judged by one rule (rule.py).
  proofs          - the ledger's derivations written out as Markdown.

Networks, torch (imports: the layers above):
  training/       - data sets, models (and ``eval_mode``), the torch form of the losses,
                    the training loop, checkpoints, multi-process training.
  attacks/        - FGSM, BIM, PGD, UPGD, APGD, their objectives, correct_under and the
                    paired noise margins; the paper's budgets (EPS, STEP, PAPER_ATTACKS).
  gradient_check  - sympy vs torch autograd vs numpy on every loss.

Evaluation (imports: training, attacks, paper and the layers above):
  evaluation/     - robustness (checkpoint -> accuracies), tables (Tables 1-2 grids),
                    audit (gradient-masking checks and their report).
  figures/        - the code that draws the paper's figures (not the figures themselves).

Command line (imports anything above):
  commands/       - one module per ``msanalysis`` sub-command: arguments, run, print.
  cli             - the entry point: parses, dispatches, turns errors into one line.

Generated artefacts, outside the package and rebuilt by commands (do not edit by hand):
  figures/ (``msanalysis figures``), proofs/ (``msanalysis proofs``) and results/ (training,
  tables, audits) at the checkout root. ``figures/`` holds images and CSVs; the code that
  makes them is ``msanalysis/figures/``. See docs/architecture.md for a "where does X live" table.
"""

__version__ = "0.1.0"
