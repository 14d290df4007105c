"""The networks: shapes, published parameter counts, normalisation, dataset statistics."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch
from torch import nn

from msanalysis.commands import models as models_command
from msanalysis.training.data import DEBIAN_DATA_ROOT, IDX_IMAGES_MAGIC, read_idx
from msanalysis.training.datasets_stats import DATASET_STATS, channel_stats
from msanalysis.training.models import MODELS, Normalize, build_model, count_parameters, eval_mode

# Parameter counts of the reference CIFAR implementations (kuangliu/pytorch-cifar, 10 classes),
# as printed by torchsummary / sum(p.numel()) for those definitions.
PUBLISHED_COUNTS = {
    "resnet18": 11_173_962,
    "resnet34": 21_282_122,
    "googlenet": 6_166_250,
    "densenet121": 6_956_298,
}

FASHION_MNIST = DEBIAN_DATA_ROOT / "fashion-mnist" / "train-images-idx3-ubyte.gz"


@pytest.mark.parametrize("name", list(MODELS))
def test_forward_shape_for_a_batch_of_two(name):
    torch.manual_seed(0)
    model = build_model(name, num_classes=7).eval()
    x = torch.rand(2, *MODELS[name].input_shape)
    with torch.no_grad():
        out = model(x)
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name, count", PUBLISHED_COUNTS.items())
def test_parameter_counts_equal_the_published_cifar_implementations(name, count):
    assert count_parameters(build_model(name)) == count


def test_normalize_is_the_first_layer_and_has_no_parameters():
    model = build_model("resnet18")
    first = model[0]
    assert isinstance(first, Normalize)
    assert list(first.parameters()) == []
    assert first.mean.tolist() == pytest.approx(DATASET_STATS["cifar10"].mean)
    x = torch.rand(2, 3, 4, 4)
    mean, std = (
        torch.tensor(DATASET_STATS["cifar10"].mean),
        torch.tensor(DATASET_STATS["cifar10"].std),
    )
    assert torch.allclose(first(x), (x - mean[:, None, None]) / std[:, None, None])


def test_one_channel_resnet_for_fashion_mnist():
    model = build_model("resnet18", normalize="fashion-mnist").eval()
    with torch.no_grad():
        assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert model[0].std.tolist() == pytest.approx(DATASET_STATS["fashion-mnist"].std)


def test_mlp_has_no_normalisation_and_a_configurable_width():
    model = build_model("mlp", num_classes=2, hidden=16)
    assert not any(isinstance(m, Normalize) for m in model.modules())
    assert count_parameters(model) == (2 * 16 + 16) + (16 * 2 + 2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "resnet50"}, "unknown model 'resnet50'"),
        ({"name": "resnet18", "num_classes": 1}, "num_classes=1"),
        ({"name": "resnet18", "in_channels": 1}, "in_channels=1"),
        ({"name": "small-cnn", "normalize": "cifar10", "in_channels": 1}, "3 channel"),
        ({"name": "small-cnn", "normalize": "imagenet"}, "unknown dataset 'imagenet'"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_model(kwargs.pop("name"), **kwargs)


def test_normalize_rejects_zero_std():
    with pytest.raises(ValueError, match="std must be > 0"):
        Normalize((0.5,), (0.0,))


@pytest.mark.skipif(not FASHION_MNIST.exists(), reason=f"Fashion-MNIST not at {FASHION_MNIST}")
def test_fashion_mnist_stats_recomputed_from_the_training_images():
    images = read_idx(FASHION_MNIST, magic=IDX_IMAGES_MAGIC)
    assert images.shape == (60_000, 28, 28)
    measured = channel_stats(images)
    # The constants carry 4 decimals: they must be the measured values rounded.
    assert measured.mean == pytest.approx(DATASET_STATS["fashion-mnist"].mean, abs=5e-5)
    assert measured.std == pytest.approx(DATASET_STATS["fashion-mnist"].std, abs=5e-5)


def test_channel_stats_per_channel_on_a_known_array():
    images = np.zeros((2, 1, 1, 3), np.uint8)
    images[1, ..., 0] = 255  # channel 0: values 0 and 1 -> mean 0.5, std 0.5
    stats = channel_stats(images, channel_axis=-1)
    assert stats.mean == pytest.approx((0.5, 0.0, 0.0))
    assert stats.std == pytest.approx((0.5, 0.0, 0.0))


def test_models_command_lists_every_model_as_json(capsys):
    parser = argparse.ArgumentParser()
    models_command.add_arguments(parser)
    assert models_command.run(parser.parse_args(["--json"])) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(MODELS)
    counts = {r["name"]: r["parameters"] for r in rows}
    assert {k: counts[k] for k in PUBLISHED_COUNTS} == PUBLISHED_COUNTS


def test_eval_mode_restores_each_submodule_mode_even_on_error():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(), nn.BatchNorm1d(2)).train()
    net[1].eval()
    with pytest.raises(RuntimeError), eval_mode(net):
        assert not any(m.training for m in net.modules())
        raise RuntimeError("inside the block")
    assert [m.training for m in net.modules()] == [True, True, False, True]
