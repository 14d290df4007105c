"""bench/gpu_check.py on the CPU path at tiny size (no GPU in CI: its figures there are the
GPU owner's to produce; here every code path of the script runs once)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "gpu_check.py"


@pytest.mark.slow
def test_gpu_check_prints_one_json_line_per_figure(capsys):
    pytest.importorskip(
        "torchattacks",
        reason="the GPU check times our PGD against torchattacks' (the reference), which is not "
        "installed: pip install --no-deps torchattacks",
    )
    main = runpy.run_path(str(SCRIPT), run_name="gpu_check")["main"]
    # small-cnn instead of ResNet-18 and aot_eager instead of inductor keep this to seconds;
    # the settings, the training loop, both PGDs and the JSON are the GPU run's.
    main(
        ["--device", "cpu", "--model", "small-cnn", "--batch", "4", "--steps", "2"]
        + ["--pgd-batch", "2", "--pgd-steps", "2", "--compile-backend", "aot_eager"]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    train = [f for f in lines if f["figure"] == "train_images_per_s"]
    pgd = [f for f in lines if f["figure"] == "pgd2_images_per_s"]
    assert [f["setting"] for f in train] == [
        "fp32",
        "bf16+channels_last",
        "bf16+channels_last+compile",
    ]
    assert sorted((f["implementation"], f["setting"]) for f in pgd) == [
        ("ours", "bf16+channels_last"),
        ("ours", "fp32+contiguous"),
        ("torchattacks", "bf16+channels_last"),
        ("torchattacks", "fp32+contiguous"),
    ]
    assert len(lines) == len(train) + len(pgd)
    for f in lines:
        assert f["value"] > 0 and f["device"] == "cpu"
        assert f["peak_gpu_memory_mib"] is None  # CUDA only
