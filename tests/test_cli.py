"""The command line as a whole: every sub-command answers --help, and bad usage is one line."""

from __future__ import annotations

import pytest

from msanalysis import cli


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: msanalysis " + command)


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_unknown_option_is_a_usage_error(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--no-such-option"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    # argparse names the first problem: the unknown option, or a required one missing
    assert f"msanalysis {command}: error:" in err and "Traceback" not in err
