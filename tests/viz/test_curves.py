"""plot_history and the figure conventions shared by every viz function."""

import matplotlib
import pytest
from matplotlib.figure import Figure

from cnnlib.train import History
from cnnlib.viz import plot_history


def history() -> History:
    return History(
        train_loss=[1.0, 0.7, 0.5],
        val_loss=[1.1, 0.8, 0.9],
        train_metrics={"accuracy": [0.5, 0.7, 0.8], "mean_iou": [0.3, 0.4, 0.5]},
        val_metrics={"accuracy": [0.4, 0.6, 0.65], "mean_iou": [0.2, 0.3, 0.35]},
        lr=[0.1, 0.1, 0.01],
        best_epoch=1,
    )


def test_one_panel_per_quantity_with_train_and_val_lines():
    fig = plot_history(history())
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy", "mean iou"]
    loss_axes = fig.axes[0]
    train, val = loss_axes.get_lines()[:2]
    assert list(train.get_ydata()) == [1.0, 0.7, 0.5]
    assert list(val.get_ydata()) == [1.1, 0.8, 0.9]
    assert list(train.get_xdata()) == [1, 2, 3]  # epochs counted from 1
    best_line = loss_axes.get_lines()[2]
    assert list(best_line.get_xdata()) == [2, 2]  # best_epoch 1 -> epoch 2


def test_selected_metrics_dicts_and_learning_rate_panel():
    fig = plot_history(history().as_dict(), metrics=["accuracy"], show_lr=True)
    assert [ax.get_title() for ax in fig.axes] == ["accuracy", "learning rate"]
    assert fig.axes[1].get_yscale() == "log"


def test_training_only_history_has_single_lines():
    fig = plot_history(History(train_loss=[1.0, 0.5]))
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 1


def test_unknown_metric_is_reported():
    with pytest.raises(KeyError, match="no series for \\['f1'\\]"):
        plot_history(history(), metrics=["f1"])


def test_no_global_state_is_touched():
    import matplotlib.pyplot as plt

    before = dict(matplotlib.rcParams)
    plot_history(history())
    assert plt.get_fignums() == []  # no pyplot figure left open
    assert dict(matplotlib.rcParams) == before
