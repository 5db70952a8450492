"""activation_maximisation raises the target activation; the blur is a blur."""

import pytest
import torch

from cnnlib.viz import activation_maximisation, feature_maps
from cnnlib.viz.maximisation import gaussian_blur, show_activation_maximisation


def net() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(8, 6, 3, padding=1),
    )


def mean_activation(model, image, channel):
    return feature_maps(model, "2", image)[0, channel].mean().item()


def test_the_found_image_excites_the_channel_more_than_random_images():
    model = net()
    image = activation_maximisation(model, "2", channel=4, steps=40, size=16, lr=0.1)
    assert image.shape == (3, 16, 16)
    # Compare with random images of the same norm: the activation grows with
    # the image's scale, so only the direction found by the ascent should count.
    gen = torch.Generator().manual_seed(1)
    noise = torch.randn(50, 3, 16, 16, generator=gen)
    noise = noise / noise.flatten(1).norm(dim=1).view(-1, 1, 1, 1) * image.norm()
    random = feature_maps(model, "2", noise)[:, 4].mean(dim=(1, 2))
    assert mean_activation(model, image, 4) > random.max().item()
    assert all(p.grad is None for p in model.parameters())  # weights untouched


def test_same_seed_same_image_and_other_channels_differ():
    model = net()
    a = activation_maximisation(model, "2", 1, steps=5, size=12)
    assert torch.equal(a, activation_maximisation(model, "2", 1, steps=5, size=12))
    assert not torch.equal(a, activation_maximisation(model, "2", 2, steps=5, size=12))


def test_gaussian_blur_keeps_constants_and_smooths_a_spike():
    flat = torch.full((1, 2, 7, 7), 3.0)
    torch.testing.assert_close(gaussian_blur(flat, 1.0), flat)
    spike = torch.zeros(1, 1, 7, 7)
    spike[0, 0, 3, 3] = 1.0
    blurred = gaussian_blur(spike, 1.0)
    assert blurred.sum().item() == pytest.approx(1.0)  # mass kept
    assert blurred.max().item() < 0.5 and blurred[0, 0, 3, 4] > 0


def test_plot_helper_one_panel_per_channel():
    fig = show_activation_maximisation(net(), "2", [0, 3, 5], steps=3, size=8)
    assert [ax.get_title() for ax in fig.axes] == [
        "channel 0",
        "channel 3",
        "channel 5",
    ]
