"""``python -m msanalysis`` is the ``msanalysis`` command."""

import sys

from .cli import main

sys.exit(main())
