"""evaluate() and predict()."""

import torch

from cnnlib.train import accuracy, evaluate, predict
from tests.train._problems import images, loader, masks, small_cnn


def test_evaluate_matches_metrics_on_the_whole_set_and_restores_mode():
    model = small_cnn()
    model.train()
    data = images(50)
    result = evaluate(model, loader(data, batch_size=16), device="cpu")
    x, y = data.tensors
    with torch.no_grad():
        scores = model(x)
    assert set(result) == {"loss", "accuracy"}
    assert (
        abs(result["loss"] - torch.nn.functional.cross_entropy(scores, y).item()) < 1e-6
    )
    assert result["accuracy"] == accuracy(scores, y)
    assert model.training  # mode restored


def test_evaluate_uses_eval_mode():
    model = torch.nn.Sequential(small_cnn(), torch.nn.Dropout(p=0.9))
    data = loader(images(32))
    first = evaluate(model, data, device="cpu")
    assert evaluate(model, data, device="cpu") == first  # no dropout noise


def test_predict_gives_classes_or_logits_for_tensors_and_loaders():
    model = small_cnn()
    x, y = images(40).tensors
    logits = predict(model, x, return_logits=True, batch_size=16, device="cpu")
    assert logits.shape == (40, 2)
    with torch.no_grad():
        torch.testing.assert_close(logits, model(x))
    classes = predict(model, loader(images(40)), device="cpu")
    assert classes.dtype == torch.int64 and torch.equal(classes, logits.argmax(1))


def test_predict_segmentation_gives_a_mask_per_image():
    model = torch.nn.Conv2d(1, 3, 1)
    x, _ = masks(5).tensors
    assert predict(model, x, device="cpu").shape == (5, 8, 8)
