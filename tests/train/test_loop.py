"""fit(): learning, history, validation, schedules, early stopping, options."""

import copy

import pytest
import torch

from cnnlib.train import EarlyStopping, StepDecay, fit
from tests.train._problems import images, loader, masks, small_cnn


def sgd(model, lr=0.1):
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_fit_learns_a_separable_problem_and_records_every_epoch():
    model = small_cnn()
    history = fit(
        model,
        loader(images(), shuffle=True),
        epochs=6,
        optimizer=sgd(model),
        val_loader=loader(images(64, seed=1)),
        device="cpu",
        progress=False,
    )
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.val_metrics["accuracy"][-1] >= 0.85
    for series in history.series().values():
        assert len(series) == 6
    assert history.lr == [0.1] * 6
    assert all(t > 0 for t in history.epoch_time + history.images_per_sec)
    assert history.monitor == "val_loss"
    assert history.val_loss[history.best_epoch] == min(history.val_loss)


def test_scheduler_changes_the_learning_rate_once_per_epoch():
    model = small_cnn()
    opt = sgd(model)
    history = fit(
        model,
        loader(images()),
        epochs=4,
        optimizer=opt,
        scheduler=StepDecay(opt, step_size=1, gamma=0.5),
        device="cpu",
        progress=False,
    )
    assert history.lr == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.00625)


def test_reduce_lr_on_plateau_receives_the_monitored_value():
    model = small_cnn()
    opt = sgd(model)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    # Validation targets opposite to training ones: val_loss rises, lr must drop.
    x, y = images().tensors
    flipped = torch.utils.data.TensorDataset(x, 1 - y)
    history = fit(
        model,
        loader(images()),
        epochs=3,
        optimizer=opt,
        val_loader=loader(flipped),
        scheduler=plateau,
        device="cpu",
        progress=False,
    )
    assert history.lr[-1] < history.lr[0]


def test_early_stopping_stops_and_restores_the_best_weights():
    # Train on one labelling and validate on the opposite one: the validation
    # loss is best after the first epoch and then rises, so training stops
    # after 1 + patience + 1 epochs and the weights go back to epoch 0's.
    x, y = images().tensors
    train = loader(images())
    val = loader(torch.utils.data.TensorDataset(x, 1 - y))
    model = small_cnn()
    twin = copy.deepcopy(model)
    stopper = EarlyStopping("val_loss", patience=2)
    history = fit(
        model,
        train,
        epochs=20,
        optimizer=sgd(model),
        val_loader=val,
        early_stopping=stopper,
        device="cpu",
        progress=False,
    )
    assert len(history) == 4 and stopper.stopped_epoch == 3
    assert history.best_epoch == 0 == stopper.best_epoch
    fit(twin, train, epochs=1, optimizer=sgd(twin), device="cpu", progress=False)
    torch.testing.assert_close(params(model), params(twin))


def test_early_stopping_on_an_unknown_series_names_the_recorded_ones():
    model = small_cnn()
    with pytest.raises(KeyError, match="val_accuracy"):
        fit(
            model,
            loader(images()),
            epochs=1,
            optimizer=sgd(model),
            early_stopping=EarlyStopping("val_accuracy"),
            device="cpu",
            progress=False,
        )


def test_transform_is_applied_to_training_batches_only():
    seen = []

    def all_class_zero(x, y):
        seen.append((x.device.type, y.shape[0]))
        return x, torch.zeros_like(y)  # training labels replaced: "always say 0"

    model = small_cnn()
    history = fit(
        model,
        loader(images(96)),
        epochs=3,
        optimizer=sgd(model),
        val_loader=loader(images(64, seed=1)),
        transform=all_class_zero,
        device="cpu",
        progress=False,
    )
    assert sum(n for _, n in seen) == 3 * 96 and {d for d, _ in seen} == {"cpu"}
    assert history.train_metrics["accuracy"][-1] == 1.0  # against the new labels
    assert history.val_metrics["accuracy"][-1] < 0.75  # val labels untouched


def test_segmentation_scores_with_mask_targets():
    torch.manual_seed(0)
    model = torch.nn.Conv2d(1, 2, kernel_size=1)  # (N, 1, H, W) -> (N, 2, H, W)
    history = fit(
        model,
        loader(masks(), batch_size=8),
        epochs=5,
        optimizer=torch.optim.Adam(model.parameters(), lr=0.1),
        metrics=("accuracy", "mean_iou", "mean_dice"),
        device="cpu",
        progress=False,
    )
    assert history.train_metrics["mean_iou"][-1] > 0.9
    assert (
        history.train_metrics["mean_dice"][-1] >= history.train_metrics["mean_iou"][-1]
    )


def test_custom_metric_callables_are_recorded_under_their_name():
    def mean_score(scores, targets):
        return scores.mean().item()

    model = small_cnn()
    history = fit(
        model,
        loader(images()),
        epochs=1,
        optimizer=sgd(model),
        metrics=(mean_score,),
        device="cpu",
        progress=False,
    )
    assert list(history.train_metrics) == ["mean_score"]


def test_amp_bf16_on_cpu_trains():
    model = small_cnn()
    history = fit(
        model,
        loader(images(), shuffle=True),
        epochs=4,
        optimizer=sgd(model),
        amp="bf16",
        device="cpu",
        progress=False,
    )
    assert all(torch.isfinite(torch.tensor(history.train_loss)))
    assert history.train_loss[-1] < history.train_loss[0]
    assert next(model.parameters()).dtype == torch.float32  # weights stay float32


def test_amp_fp16_on_cpu_is_refused_with_advice():
    model = small_cnn()
    with pytest.raises(ValueError, match="amp='bf16'"):
        fit(
            model,
            loader(images()),
            epochs=1,
            optimizer=sgd(model),
            amp="fp16",
            device="cpu",
        )


def test_channels_last_gives_the_same_training_within_tolerance():
    results = []
    for channels_last in (False, True):
        model = small_cnn()
        fit(
            model,
            loader(images()),
            epochs=2,
            optimizer=sgd(model),
            channels_last=channels_last,
            device="cpu",
            progress=False,
        )
        results.append(params(model))
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(results[0], results[1], rtol=1e-4, atol=1e-5)


def test_max_grad_norm_limits_the_step():
    model = small_cnn()
    start = params(model).clone()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    fit(
        model,
        loader(images(16), batch_size=16),
        epochs=1,
        optimizer=opt,
        max_grad_norm=1e-3,
        device="cpu",
        progress=False,
    )
    # One step of plain SGD with lr 1 moves the parameters by the clipped norm.
    assert (params(model) - start).norm().item() == pytest.approx(1e-3, rel=1e-3)


def test_progress_bars_render_without_error(capsys):
    model = small_cnn()
    fit(
        model,
        loader(images()),
        epochs=2,
        optimizer=sgd(model),
        device="cpu",
        progress=True,
    )
    assert "epochs" in capsys.readouterr().err


def test_bad_arguments_give_clear_errors():
    model = small_cnn()
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        fit(model, loader(images()), epochs=0, optimizer=sgd(model), device="cpu")
    triples = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*images().tensors, torch.zeros(96)), batch_size=8
    )
    with pytest.raises(TypeError, match="pair"):
        fit(
            model, triples, epochs=1, optimizer=sgd(model), device="cpu", progress=False
        )


def test_fit_and_evaluate_on_every_device_present(device):
    """cpu always; cuda and mps where the machine has them (conftest's fixture)."""
    model = small_cnn()
    amp = "bf16" if device.type == "cpu" else "fp16"  # fp16 + GradScaler on GPUs
    history = fit(
        model,
        loader(images(), shuffle=True),
        epochs=3,
        optimizer=sgd(model),
        val_loader=loader(images(32, seed=1)),
        amp=amp,
        channels_last=True,
        device=device,
        progress=False,
    )
    assert next(model.parameters()).device.type == device.type
    assert history.train_loss[-1] < history.train_loss[0]


def test_default_device_is_the_best_one_present_and_no_metrics_is_fine():
    from cnnlib import best_device

    model = small_cnn()
    history = fit(
        model,
        loader(images()),
        epochs=1,
        optimizer=sgd(model),
        metrics=(),
        progress=False,
    )
    assert next(model.parameters()).device.type == best_device().type
    assert history.train_metrics == {} and len(history.train_loss) == 1


def test_unknown_device_is_refused_before_training():
    model = small_cnn()
    with pytest.raises((ValueError, RuntimeError), match="best_device"):
        fit(model, loader(images()), epochs=1, optimizer=sgd(model), device="tpu")


def test_from_scratch_loss_trains_a_segmentation_model_like_torchs():
    from cnnlib import ops

    results = []
    for loss_fn in (torch.nn.functional.cross_entropy, ops.cross_entropy):
        torch.manual_seed(0)
        model = torch.nn.Conv2d(1, 2, kernel_size=1)
        history = fit(
            model,
            loader(masks(), batch_size=8),
            epochs=2,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
            loss_fn=loss_fn,
            metrics=("mean_iou",),
            device="cpu",
            progress=False,
        )
        results.append(history.train_loss)
    assert results[1] == pytest.approx(results[0], rel=1e-5)
