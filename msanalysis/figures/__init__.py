"""The paper's figures, recomputed, with the numbers behind each one.

* :mod:`.loss_curves` - Figure 2 and the η phase diagram, from the sympy expressions;
* :mod:`.toy_data`, :mod:`.toy` - the toy sets and networks of Figures 1, 3-9;
* :mod:`.trajectories` - gradient-descent runs of :mod:`msanalysis.simulate`, |w| and boundary
  against t;
* :mod:`.boundary` - where a learned boundary lies (distances, offset from the reference);
* :mod:`.build` - :func:`build_figures`, behind ``msanalysis figures``.

Each figure function returns a :class:`matplotlib.figure.Figure` built without pyplot, so
nothing depends on a display or on a global backend state (the Agg canvas is used to save).
"""

from .build import FIGURE_NAMES, build_figures
from .loss_curves import fig2_columns, figure2, figure_eta_phase
from .toy import ToyExperiment, figure_toy

__all__ = [
    "FIGURE_NAMES",
    "build_figures",
    "fig2_columns",
    "figure2",
    "figure_eta_phase",
    "ToyExperiment",
    "figure_toy",
]
