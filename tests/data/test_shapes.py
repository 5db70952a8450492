"""make_shapes: deterministic, balanced, and free of class cues in colour statistics."""

import torch

from cnnlib.data import SHAPE_CLASSES, make_shapes, shapes_splits


def test_shapes_dtypes_range_and_balance():
    images, labels, classes = make_shapes(205, size=32, seed=0)
    assert images.shape == (205, 3, 32, 32) and images.dtype == torch.float32
    assert labels.shape == (205,) and labels.dtype == torch.int64
    assert classes == list(SHAPE_CLASSES) and len(classes) >= 10
    assert images.min() >= 0 and images.max() <= 1
    counts = torch.bincount(labels, minlength=len(classes))
    assert counts.max() - counts.min() <= 1


def test_same_seed_same_tensors_whatever_the_global_rng():
    torch.manual_seed(1)
    a, la, _ = make_shapes(50, seed=7)
    torch.manual_seed(2)
    torch.rand(100)
    b, lb, _ = make_shapes(50, seed=7)
    c, _, _ = make_shapes(50, seed=8)
    assert torch.equal(a, b) and torch.equal(la, lb)
    assert not torch.equal(a, c)


def test_chunked_rendering_matches_unchunked(monkeypatch):
    from cnnlib.data import draw

    whole, _, _ = make_shapes(30, seed=3)
    monkeypatch.setattr(draw, "chunk_size", lambda size, device: 7)
    chunked, _, _ = make_shapes(30, seed=3)  # rendered 7 images at a time
    assert torch.allclose(whole, chunked, atol=1e-6)


def test_any_size_draws_the_same_scenes():
    small, labels_small, _ = make_shapes(40, size=32, seed=0, noise=0.0)
    large, labels_large, _ = make_shapes(40, size=64, seed=0, noise=0.0)
    assert large.shape == (40, 3, 64, 64)
    assert torch.equal(labels_small, labels_large)
    downsampled = torch.nn.functional.avg_pool2d(large, 2)
    assert (downsampled - small).abs().mean() < 0.03


def test_renders_on_any_device(device):
    cpu, labels_cpu, _ = make_shapes(20, seed=5)
    there, labels_there, _ = make_shapes(20, seed=5, device=device)
    assert there.device.type == device.type
    assert torch.equal(labels_cpu, labels_there.cpu())
    assert torch.allclose(cpu, there.cpu(), atol=1e-4)


def test_global_colour_statistics_do_not_reveal_the_class():
    images, labels, classes = make_shapes(1500, size=32, seed=1)
    # Nearest class centroid on each image's mean colour and colour spread:
    # if colour carried the class, this would beat chance (10%) clearly.
    features = torch.cat([images.mean(dim=(2, 3)), images.std(dim=(2, 3))], dim=1)
    train, test = slice(0, 1000), slice(1000, None)
    centroids = torch.stack(
        [features[train][labels[train] == k].mean(0) for k in range(len(classes))]
    )
    predicted = torch.cdist(features[test], centroids).argmin(dim=1)
    accuracy = (predicted == labels[test]).float().mean()
    assert accuracy < 0.2


def test_object_position_is_independent_of_class():
    images, labels, _ = make_shapes(1500, size=32, seed=2, noise=0.0, clutter=False)
    # Where the image differs from its own gradient background: the object.
    edges = (images[..., 1:, :] - images[..., :-1, :]).abs().sum(1)  # (N, H-1, W)
    rows = torch.arange(edges.shape[1], dtype=torch.float32)
    centre = (edges.sum(2) * rows).sum(1) / edges.sum((1, 2))  # vertical centroid
    per_class = torch.stack([centre[labels == k].mean() for k in range(10)])
    assert per_class.std() < 1.0  # pixels; the image is 32 high


def test_shapes_splits_are_standardised_and_stratified():
    splits = shapes_splits(n=400, size=32, seed=0)
    x, y = splits.train.tensors
    assert splits.input_shape == (3, 32, 32) and splits.num_classes == 10
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.bincount(splits.test.tensors[1]).min() == 6
