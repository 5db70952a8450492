"""History: plain-type round trips and flat series names."""

import pytest

from cnnlib.train import History


def test_append_fills_series_and_round_trips_through_a_dict():
    history = History()
    history.append(
        {"train_loss": 1.0, "train_accuracy": 0.5, "val_loss": 1.2, "lr": 0.1}
    )
    history.append(
        {"train_loss": 0.5, "train_accuracy": 0.8, "val_loss": 0.9, "lr": 0.1}
    )
    history.best_epoch = 1
    assert len(history) == 2
    assert history.train_metrics == {"accuracy": [0.5, 0.8]}
    assert history.epoch(-1)["val_loss"] == 0.9
    record = history.as_dict()
    assert record["train_accuracy"] == [0.5, 0.8] and record["best_epoch"] == 1
    assert History.from_dict(record) == history


def test_unknown_series_are_refused():
    with pytest.raises(ValueError, match="unknown series 'accuracy'"):
        History().append({"accuracy": 1.0})
