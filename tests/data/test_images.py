"""sample_image(s): scikit-image's bundled pictures, loaded without any network."""

import socket

import pytest
import torch

from cnnlib.data import SAMPLE_IMAGES, sample_image, sample_images


@pytest.fixture
def no_network(monkeypatch):
    """Make any attempt to open a connection fail loudly."""

    def refuse(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_every_listed_image_loads_offline_as_unit_range_chw(no_network):
    images = sample_images()
    assert set(images) == set(SAMPLE_IMAGES)
    for name, image in images.items():
        assert image.dtype == torch.float32, name
        assert image.ndim == 3 and image.shape[0] in (1, 3), name
        assert 0 <= image.min() and image.max() <= 1, name
        assert image.std() > 0.01, name  # a real picture, not a constant


def test_colour_and_grey_images_and_grayscale_conversion():
    colour = sample_image("astronaut")
    assert colour.shape == (3, 512, 512)
    assert sample_image("camera").shape == (1, 512, 512)
    grey = sample_image("astronaut", grayscale=True)
    assert grey.shape == (1, 512, 512)
    # Luma is a weighted average of R, G, B, so it lies between their min and max.
    assert (grey[0] >= colour.min(dim=0).values - 1e-6).all()
    assert (grey[0] <= colour.max(dim=0).values + 1e-6).all()


def test_rgba_logo_is_composited_to_rgb():
    logo = sample_image("logo")
    assert logo.shape[0] == 3
    assert torch.allclose(logo[:, 0, 0], torch.ones(3))  # transparent corner: white


def test_resize_keeps_aspect_for_int_and_is_exact_for_pairs():
    assert sample_image("coffee", size=100).shape == (3, 100, 150)
    assert sample_image("coins", size=(32, 48)).shape == (1, 32, 48)
    small = sample_image("camera", size=64)
    big = sample_image("camera")
    assert abs(small.mean() - big.mean()) < 0.01  # antialiased: same brightness


def test_unknown_name_lists_the_available_images():
    with pytest.raises(ValueError, match="astronaut.*coins") as error:
        sample_image("eagle")  # exists in skimage.data but needs a download
    assert "sample_image" in str(error.value)
