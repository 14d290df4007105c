"""The command line as a whole: every sub-command answers --help, and bad usage is one line."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

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


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("args", [["verify", "--markdown"], ["models", "--json"]])
def test_output_cut_by_a_pipe_ends_quietly(args):
    """`msanalysis ... | head -1`: the reader goes away; no BrokenPipeError traceback, exit 141.

    The read end is closed before the command writes (as a `head` that already exited), so the
    first write fails for sure; with a real `head` it depends on the pipe's buffer size.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "msanalysis", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == cli.BROKEN_PIPE_STATUS
    assert err == ""


def test_options_are_never_abbreviated(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--epoch", "1"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --epoch 1" in capsys.readouterr().err


def test_an_output_path_that_is_a_file_is_one_line(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("not a folder\n")
    assert cli.main(["proofs", "--out", str(taken)]) == 1
    err = capsys.readouterr().err
    assert err == f"msanalysis proofs: {taken}: File exists\n"


def test_warnings_are_one_line(tmp_path, capsys):
    """`train --eta 0.3` warns (η below the threshold) in one line, no source path or code line."""
    args = ["train", "--eta", "0.3", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")]
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # shown even if an earlier test triggered it already
        assert cli.main(args) == 1  # no data in tmp_path: the run stops after the warning
    warning, error = capsys.readouterr().err.splitlines()
    assert warning.startswith("msanalysis train: ThresholdWarning: loss 'ms' with eta=0.3 <= ")
    assert ".py" not in warning and error.startswith("msanalysis train: fashion-mnist")


def test_train_help_lists_the_registries(capsys):
    from msanalysis.training.losses import TRAINING_LOSSES
    from msanalysis.training.models import MODELS

    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    images = [n for n, spec in MODELS.items() if len(spec.input_shape) == 3]
    assert f"an image model: {', '.join(images)} (default: small-cnn)" in help_text
    assert f"a loss of the family: {', '.join(TRAINING_LOSSES)} (default: ms)" in help_text


def test_ci_installs_torchattacks_after_the_test_extras():
    """Installed before them, pip prints a resolver ERROR about torchattacks' unused pins."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    extras = lines.index("python3 -m pip install -q -e '.[test]'")
    assert lines.index("python3 -m pip install -q --no-deps torchattacks") > extras


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "--eta", "inf", "--steps", "10"],
        ["simulate", "--eta", "nan", "--steps", "10"],
        ["simulate", "--eta", "0", "--steps", "10"],
        ["simulate", "--lr", "inf", "--steps", "10"],
        ["simulate", "--loss", "msx"],
        ["figures", "--eta", "-1"],
        ["sweep-eta", "--losses", "msx"],
        ["train", "--eta", "nan"],
        ["train", "--loss", "msx"],
        ["train", "--model", "resnet19"],
        ["train", "--model", "mlp"],
    ],
)
def test_bad_values_and_names_are_one_line_usage_errors(args, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"msanalysis {args[0]}: error: ") and err.count("\n") == 1
