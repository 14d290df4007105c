"""The ``msanalysis`` command line: one sub-command per module of :mod:`msanalysis.commands`.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``, and imports its heavy dependencies (torch, matplotlib) inside ``run``,
so that ``msanalysis verify`` starts without loading torch.

Exit status: 0 on success, 1 when a command fails on its input (a missing data file, say, or
an output path that cannot be written), 2 on bad usage, 130 on Ctrl-C, 141 (128 + SIGPIPE, as
coreutils) when the reader of its output went away (``msanalysis verify --markdown | head``):
the command then stops quietly. User errors print one line, never a traceback; so do warnings
(``msanalysis train: ThresholdWarning: ...``). Option names are never abbreviated (``--epoch``
is an error, not ``--epochs``). The full page: docs/cli.md.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
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
    "study": "study",
    "baselines": "baselines",
}
# Exit status when stdout is a closed pipe: 128 + SIGPIPE, what a shell reports for `yes | head`.
BROKEN_PIPE_STATUS = 141


def version() -> str:
    """The installed distribution's version; the package's ``__version__`` when not installed."""
    import importlib.metadata  # here, not at the top: only --version needs it (15 ms)

    try:
        return importlib.metadata.version("msanalysis")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return importlib.import_module("msanalysis").__version__


class _Version(argparse.Action):
    """``--version``, the version looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"msanalysis {version()}")  # to stdout, as argparse's own version action
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="msanalysis",
        description="Put the paper 'Multi-stationary point losses for robust model' to the test.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"msanalysis.commands.{module_name}")
        command = sub.add_parser(
            name, help=module.HELP, description=module.HELP, allow_abbrev=False
        )
        module.add_arguments(command)
        command.set_defaults(_run=module.run, _parser=command)
    return parser


def _one_line_warnings(command: str):
    """A :func:`warnings.showwarning` that prints ``msanalysis COMMAND: Category: message``.

    The default shows the source file, line number and code line of the warning's origin:
    noise for a user, who needs the message. The warning itself (and its filters) is unchanged.
    """

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ARG001
        text = " ".join(str(message).split())  # one line, whatever the message's layout
        print(f"msanalysis {command}: {category.__name__}: {text}", file=file or sys.stderr)

    return show


def _quiet_broken_pipe() -> int:
    """Stdout's reader is gone: send what is still buffered to /dev/null, so that Python's own
    flush at exit does not fail again, and exit with :data:`BROKEN_PIPE_STATUS`."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return BROKEN_PIPE_STATUS


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # reported by the sub-command's parser, so the message names the command
        args._parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warnings(args.command)
            status = int(args._run(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not in Python's flush at exit
        return status
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except UsageError as err:
        print(f"msanalysis {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (InputError, FileNotFoundError) as err:
        print(f"msanalysis {args.command}: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # an output path that is a file, a read-only folder, a full disk...
        where = f"{err.filename}: " if err.filename else ""
        print(f"msanalysis {args.command}: {where}{err.strerror or err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"msanalysis {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
