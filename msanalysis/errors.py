"""Error types shared by the library and the command line.

The library raises them; :mod:`msanalysis.cli` turns them into one line and an exit status.
They live here, not in the CLI, so that no library module imports from the commands layer.
"""

from __future__ import annotations


class UsageError(Exception):
    """Bad usage (an unknown name, a value out of range): reported in one line, exit status 2."""


class InputError(Exception):
    """A command could not run on its input (missing or corrupt file...): exit status 1."""
