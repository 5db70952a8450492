"""EarlyStopping on its own: patience, min_delta, modes, restoring weights."""

import pytest
import torch

from cnnlib.train import EarlyStopping


def test_stops_after_patience_epochs_without_improvement():
    stopper = EarlyStopping("val_loss", patience=2)
    decisions = [stopper.step(v) for v in [1.0, 0.8, 0.9, 0.85, 0.81]]
    assert decisions == [False, False, False, False, True]
    assert (
        stopper.best == 0.8 and stopper.best_epoch == 1 and stopper.stopped_epoch == 4
    )


def test_min_delta_requires_a_large_enough_improvement():
    stopper = EarlyStopping("val_loss", patience=0, min_delta=0.1)
    assert stopper.step(1.0) is False
    assert stopper.step(0.95) is True  # better, but by less than min_delta
    assert stopper.best_epoch == 0


def test_mode_max_is_inferred_for_accuracy_and_nan_never_improves():
    stopper = EarlyStopping("val_accuracy", patience=1)
    assert stopper.mode == "max"
    assert [stopper.step(v) for v in [0.5, 0.7, float("nan"), 0.6]] == [
        False,
        False,
        False,
        True,
    ]
    assert stopper.best == 0.7


def test_restore_loads_the_weights_of_the_best_epoch():
    model = torch.nn.Linear(2, 1)
    stopper = EarlyStopping("val_loss", patience=5)
    with torch.no_grad():
        model.weight.fill_(1.0)
        stopper.step(0.5, model)  # best
        model.weight.fill_(2.0)
        stopper.step(0.7, model)
    assert stopper.restore(model)
    assert torch.all(model.weight == 1.0)


def test_reset_forgets_a_previous_run():
    stopper = EarlyStopping("val_loss", patience=0)
    stopper.step(0.1)
    stopper.reset()
    assert stopper.best_epoch is None and stopper.step(5.0) is False


def test_bad_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping("val_loss", mode="lowest")
