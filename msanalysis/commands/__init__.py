"""Sub-commands of the ``msanalysis`` command line, one module each (see :mod:`msanalysis.cli`)."""
