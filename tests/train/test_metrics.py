"""Metrics against scikit-learn and against their definitions."""

import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from cnnlib.train.metrics import (
    accuracy,
    confusion_matrix,
    dice_per_class,
    iou_per_class,
    mean_dice,
    mean_iou,
    top_k_accuracy,
)
from cnnlib.train.tracker import MetricTracker


@pytest.fixture
def labels(rng):
    """Random 4-class predictions and targets, agreeing about half the time."""
    target = torch.randint(0, 4, (200,), generator=rng)
    noise = torch.randint(0, 4, (200,), generator=rng)
    keep = torch.rand(200, generator=rng) < 0.5
    return torch.where(keep, target, noise), target


def test_accuracy_matches_sklearn(labels):
    pred, target = labels
    assert accuracy(pred, target) == pytest.approx(skm.accuracy_score(target, pred))


def test_accuracy_takes_scores_and_argmaxes_them(rng):
    scores = torch.randn(50, 5, generator=rng)
    target = torch.randint(0, 5, (50,), generator=rng)
    assert accuracy(scores, target) == accuracy(scores.argmax(1), target)


def test_accuracy_ignores_ignore_index():
    pred = torch.tensor([0, 1, 1, 0])
    target = torch.tensor([0, 1, 255, 255])
    assert accuracy(pred, target, ignore_index=255) == 1.0


def test_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="accuracy"):
        accuracy(torch.zeros(3, dtype=torch.long), torch.zeros(4, dtype=torch.long))


def test_top_k_accuracy_matches_sklearn(rng):
    scores = torch.randn(100, 6, generator=rng)
    target = torch.randint(0, 6, (100,), generator=rng)
    for k in (1, 2, 3):
        expected = skm.top_k_accuracy_score(target, scores, k=k, labels=range(6))
        assert top_k_accuracy(scores, target, k=k) == pytest.approx(expected)


def test_top_k_accuracy_rejects_k_larger_than_classes():
    with pytest.raises(ValueError, match="k must be"):
        top_k_accuracy(torch.randn(4, 3), torch.zeros(4, dtype=torch.long), k=5)


def test_confusion_matrix_matches_sklearn(labels):
    pred, target = labels
    cm = confusion_matrix(pred, target)
    assert cm.dtype == torch.int64 and cm.shape == (4, 4)
    np.testing.assert_array_equal(cm.numpy(), skm.confusion_matrix(target, pred))


def test_confusion_matrix_of_segmentation_scores(rng):
    scores = torch.randn(2, 3, 5, 5, generator=rng)  # (N, C, H, W)
    target = torch.randint(0, 3, (2, 5, 5), generator=rng)
    cm = confusion_matrix(scores, target)
    expected = skm.confusion_matrix(
        target.flatten(), scores.argmax(1).flatten(), labels=[0, 1, 2]
    )
    np.testing.assert_array_equal(cm.numpy(), expected)


def test_confusion_matrix_rejects_out_of_range_targets():
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix(torch.tensor([0, 1]), torch.tensor([0, 5]), num_classes=2)


def test_iou_matches_sklearn_jaccard(labels):
    pred, target = labels
    expected = skm.jaccard_score(target, pred, average=None)
    np.testing.assert_allclose(iou_per_class(pred, target).numpy(), expected)
    assert mean_iou(pred, target) == pytest.approx(expected.mean())


def test_iou_and_dice_by_definition_on_a_mask():
    # Class 1 predicted on 3 pixels, true on 2, overlapping on 1:
    # IoU = 1 / (3 + 2 - 1) = 1/4, Dice = 2 * 1 / (3 + 2) = 2/5.
    pred = torch.tensor([[1, 1, 1, 0], [0, 0, 0, 0]])
    target = torch.tensor([[1, 0, 0, 0], [1, 0, 0, 0]])
    assert iou_per_class(pred, target)[1].item() == pytest.approx(1 / 4)
    assert dice_per_class(pred, target)[1].item() == pytest.approx(2 / 5)
    # Class 0: predicted on 5, true on 6, overlapping on 4.
    assert iou_per_class(pred, target)[0].item() == pytest.approx(4 / 7)
    assert dice_per_class(pred, target)[0].item() == pytest.approx(8 / 11)


def test_dice_equals_f1_and_absent_classes_are_nan(labels):
    pred, target = labels
    np.testing.assert_allclose(
        dice_per_class(pred, target).numpy(), skm.f1_score(target, pred, average=None)
    )
    dice = dice_per_class(pred, target, num_classes=6)  # classes 4, 5 never occur
    assert math.isnan(dice[4]) and math.isnan(dice[5])
    assert mean_dice(pred, target, num_classes=6) == pytest.approx(
        dice[:4].mean().item()
    )


def test_tracker_over_batches_equals_metric_over_everything(rng):
    scores = torch.randn(30, 3, 4, 4, generator=rng)
    target = torch.randint(0, 3, (30, 4, 4), generator=rng)
    tracker = MetricTracker(["accuracy", "mean_iou", "mean_dice", "top2_accuracy"])
    for i in range(0, 30, 7):  # uneven batches: 7, 7, 7, 7, 2
        tracker.update(torch.tensor(1.0), scores[i : i + 7], target[i : i + 7])
    result = tracker.compute()
    assert result["loss"] == pytest.approx(1.0)
    assert result["accuracy"] == pytest.approx(accuracy(scores, target))
    assert result["mean_iou"] == pytest.approx(mean_iou(scores, target))
    assert result["mean_dice"] == pytest.approx(mean_dice(scores, target))
    assert result["top2_accuracy"] == pytest.approx(top_k_accuracy(scores, target, 2))


def test_tracker_rejects_unknown_metric_names():
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        MetricTracker(["f1"])
