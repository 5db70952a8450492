"""The sentence CNN (Kim, 2014) and max pooling over time."""

import pytest
import torch

from cnnlib import models, nn
from tests.models.helpers import count_params


def test_parameter_count_matches_the_formula():
    vocab, d, widths, f, classes = 500, 16, (2, 3, 4), 8, 3
    model = models.TextCNN(vocab, d, widths, f, num_classes=classes)
    expected = (
        vocab * d
        + sum((k * d + 1) * f for k in widths)
        + (len(widths) * f + 1) * classes
    )
    assert count_params(model) == expected == 8000 + 8 * (32 + 48 + 64 + 3) + 75


def test_kim_2014_configuration():
    # 300-d vectors, widths 3, 4, 5 with 100 filters each, 2 classes
    with torch.device("meta"):
        model = models.TextCNN(20_000, 300, (3, 4, 5), 100)
    convs = (3 * 300 + 1) * 100 + (4 * 300 + 1) * 100 + (5 * 300 + 1) * 100
    assert count_params(model) == 20_000 * 300 + convs + 301 * 2 == 6_360_902


def test_max_over_time_is_the_global_max_and_routes_the_gradient():
    x = torch.tensor([[[1.0, 5.0, 2.0], [-3.0, -1.0, -2.0]]], requires_grad=True)
    y = models.MaxOverTime()(x)
    assert y.tolist() == [[5.0, -1.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]]


def test_a_filter_responds_to_an_ngram_wherever_it_is():
    torch.manual_seed(0)
    model = models.TextCNN(50, 8, (2,), 4).eval()
    a = torch.tensor([[7, 9, 0, 0, 0, 0]])
    b = torch.tensor([[0, 0, 0, 7, 9, 0]])
    fa, fb = model.feature_maps(a)[0], model.feature_maps(b)[0]
    torch.testing.assert_close(fa[..., 0], fb[..., 3])  # the window on "7 9"
    assert fa.shape == (1, 4, 5)  # L - k + 1 windows


def test_scratch_matches_native():
    torch.manual_seed(0)
    model = models.TextCNN(100, 8, (2, 3), 5).double().eval()
    tokens = torch.randint(1, 100, (4, 11))
    with nn.use_impl("scratch"):
        scratch = model(tokens)
    with nn.use_impl("native"):
        native = model(tokens)
    torch.testing.assert_close(scratch, native)


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (torch.zeros(2, 3, 4, dtype=torch.long), r"\(N, L\) int64"),
        (torch.zeros(2, 6), r"\(N, L\) int64"),
        (torch.zeros(2, 2, dtype=torch.long), "shorter than the widest filter"),
    ],
)
def test_bad_input_is_named(tokens, message):
    model = models.TextCNN(10, 4, (2, 3), 2)
    with pytest.raises(ValueError, match=message):
        model(tokens)


def test_max_over_time_rejects_images():
    with pytest.raises(ValueError, match=r"\(N, C, L\)"):
        models.MaxOverTime()(torch.zeros(1, 2, 3, 4))
