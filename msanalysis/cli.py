"""The ``msanalysis`` command line: one sub-command per module of :mod:`msanalysis.commands`.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``, and imports its heavy dependencies (torch, matplotlib) inside ``run``,
so that ``msanalysis verify`` starts without loading torch.

Exit status: 0 on success, 1 when a command fails on its input (a missing data file, say),
2 on bad usage. User errors print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .errors import InputError, UsageError

# Sub-command name -> module under msanalysis.commands (one line each).
COMMANDS: dict[str, str] = {
    "verify": "verify",
    "proofs": "proofs",
    "models": "models",
    "train": "train",
    "check-gradients": "check_gradients",
    "simulate": "simulate",
    "sweep-eta": "sweep_eta",
    "figures": "figures",
    "attack": "attack",
    "table1": "table1",
    "table2": "table2",
    "audit": "audit",
    "baselines": "baselines",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="msanalysis",
        description="Put the paper 'Multi-stationary point losses for robust model' to the test.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"msanalysis.commands.{module_name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_run=module.run, _parser=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # reported by the sub-command's parser, so the message names the command
        args._parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args._run(args) or 0)
    except UsageError as err:
        print(f"msanalysis {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (InputError, FileNotFoundError) as err:
        print(f"msanalysis {args.command}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"msanalysis {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
