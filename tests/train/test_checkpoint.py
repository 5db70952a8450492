"""Checkpoints: round trip through torch.load(weights_only=True)."""

import pytest
import torch

from cnnlib.train import History, fit, load_checkpoint, save_checkpoint
from tests.train._problems import images, loader, small_cnn


def test_round_trip_restores_model_optimizer_epoch_and_history(tmp_path):
    model = small_cnn(seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    history = fit(
        model, loader(images()), epochs=2, optimizer=opt, device="cpu", progress=False
    )
    path = tmp_path / "run.pt"
    save_checkpoint(path, model, opt, epoch=2, history=history)

    raw = torch.load(path, weights_only=True)  # plain types only: loads safely
    assert raw["history"]["train_loss"] == history.train_loss

    fresh = small_cnn(seed=1)
    fresh_opt = torch.optim.Adam(fresh.parameters(), lr=0.01)
    info = load_checkpoint(path, fresh, fresh_opt)
    assert info["epoch"] == 2 and info["history"] == history
    for a, b in zip(
        model.state_dict().values(), fresh.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    # Adam's moments came back too: one more identical step on both stays equal.
    x, y = images(16).tensors
    for m, o in ((model, opt), (fresh, fresh_opt)):
        o.zero_grad()
        torch.nn.functional.cross_entropy(m(x), y).backward()
        o.step()
    torch.testing.assert_close(model[0].weight, fresh[0].weight, rtol=0, atol=0)


def test_fit_checkpoint_holds_the_best_epoch(tmp_path):
    x, y = images().tensors
    flipped = loader(torch.utils.data.TensorDataset(x, 1 - y))  # val loss rises
    model = small_cnn()
    path = tmp_path / "best.pt"
    history = fit(
        model,
        loader(images()),
        epochs=3,
        val_loader=flipped,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        checkpoint=path,
        device="cpu",
        progress=False,
    )
    info = load_checkpoint(path, small_cnn(seed=3))
    best = history.best_epoch
    assert info["epoch"] == best + 1
    assert info["history"].val_loss == history.val_loss[: best + 1]


def test_missing_optimizer_state_is_reported(tmp_path):
    model = small_cnn()
    save_checkpoint(tmp_path / "w.pt", model)
    with pytest.raises(KeyError, match="no optimizer state"):
        load_checkpoint(tmp_path / "w.pt", model, torch.optim.SGD(model.parameters()))
    assert load_checkpoint(tmp_path / "w.pt", model)["history"] is None


def test_history_from_checkpoint_is_a_history(tmp_path):
    model = small_cnn()
    save_checkpoint(tmp_path / "h.pt", model, history=History(train_loss=[1.0]))
    assert isinstance(load_checkpoint(tmp_path / "h.pt", model)["history"], History)
