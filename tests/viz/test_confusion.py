"""plot_confusion_matrix."""

import numpy as np
import pytest
import torch

from cnnlib.viz import plot_confusion_matrix


def test_counts_annotations_and_axes():
    cm = torch.tensor([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    fig = plot_confusion_matrix(cm, ["a", "b", "c"])
    ax, colorbar = fig.axes
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), cm.numpy())
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 9 and texts[:3] == ["5", "1", "0"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]


def test_normalize_true_makes_rows_sum_to_one():
    cm = np.array([[3, 1], [0, 0]])  # an empty row stays 0, no division by zero
    shown = plot_confusion_matrix(cm, normalize="true").axes[0].get_images()[0]
    np.testing.assert_allclose(shown.get_array(), [[0.75, 0.25], [0, 0]])


def test_large_matrices_are_not_annotated_and_bad_input_is_refused():
    fig = plot_confusion_matrix(np.eye(20))
    assert len(fig.axes[0].texts) == 0
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="normalize"):
        plot_confusion_matrix(np.eye(2), normalize="rows")
