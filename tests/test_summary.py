"""summary(): the lectures' Keras models rebuilt with cnnlib.nn give the same counts.

The expected totals are the figures printed by Keras in the lecture slides; our
summary computes them from the models built here.
"""

import json

import pytest
import torch

from cnnlib import nn, summary


def lenet5_keras() -> nn.Module:
    """The lecture's Keras LeNet-5: tanh everywhere, max pooling, softmax output."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.Tanh(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, 10),
        nn.Softmax(dim=1),
    )


def mnist_mlp() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 512),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(512, 512),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(512, 10),
    )


def mnist_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(9216, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),
    )


def cats_vs_dogs() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 17 * 17, 64),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(64, 1),
        nn.Sigmoid(),
    )


def rows_by_type(s, type_name):
    return [row for row in s.rows if row.type == type_name]


def test_lenet5_total():
    s = summary(lenet5_keras(), (1, 32, 32))
    assert s.total_params == 61_706
    assert "Total params: 61,706" in str(s)
    assert [r.params for r in rows_by_type(s, "Conv2d")] == [156, 2_416]
    assert s.rows[-1].output_shape == (None, 10)


def test_mnist_mlp_total():
    s = summary(mnist_mlp(), (784,))
    assert s.total_params == 669_706
    assert s.trainable_params == 669_706
    assert s.non_trainable_params == 0
    assert [r.params for r in rows_by_type(s, "Linear")] == [401_920, 262_656, 5_130]


def test_mnist_cnn_rows_and_shapes():
    s = summary(mnist_cnn(), (1, 28, 28))
    assert s.total_params == 1_199_882
    # Keras' rows (activations are folded into Keras layers, so skip our ReLUs).
    rows = [r for r in s.rows if r.type != "ReLU"]
    assert [r.params for r in rows] == [320, 18_496, 0, 0, 0, 1_179_776, 0, 1_290]
    # Keras prints channels-last (None, 26, 26, 32); ours are channels-first.
    assert [r.output_shape for r in rows] == [
        (None, 32, 26, 26),
        (None, 64, 24, 24),
        (None, 64, 12, 12),
        (None, 64, 12, 12),
        (None, 9216),
        (None, 128),
        (None, 128),
        (None, 10),
    ]


def test_cats_vs_dogs_rows():
    s = summary(cats_vs_dogs(), (3, 150, 150))
    assert s.total_params == 1_212_513
    with_params = [r.params for r in s.rows if r.params]
    assert with_params == [896, 9_248, 18_496, 1_183_808, 65]
    (flatten,) = rows_by_type(s, "Flatten")
    assert flatten.output_shape == (None, 18_496)


def test_single_layers_from_the_lecture():
    dense = summary(nn.Linear(49_152, 512), (49_152,))
    assert dense.total_params == 25_166_336
    conv = summary(nn.Conv2d(3, 512, 3), (3, 128, 128))
    assert conv.total_params == 14_336
    assert conv.rows[0].output_shape == (None, 512, 126, 126)
    # Each output value is a 3x3x3 dot product.
    assert conv.mult_adds == 512 * 126 * 126 * 27


def block(c_in: int, c_out: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    )


class FrozenFeatures(nn.Module):
    """A frozen feature extractor with batch norm, and a trainable head."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(block(3, 8), nn.MaxPool2d(2), block(8, 16))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(16, 5)
        for p in self.features.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)).flatten(1))


def test_frozen_layers_and_batch_norm_buffers():
    model = FrozenFeatures()
    s = summary(model, (3, 16, 16))
    conv = 3 * 8 * 9 + 8 * 16 * 9
    bn = 2 * 8 + 2 * 16  # gamma and beta: parameters
    head = 16 * 5 + 5
    assert s.total_params == conv + bn + head
    assert s.non_trainable_params == conv + bn
    assert s.trainable_params == head
    # Running mean and variance are buffers, which Keras would add as non-trainable.
    assert s.buffer_elements == 2 * 8 + 2 * 16
    assert "Buffers (running stats, not params): 48" in str(s)
    assert "Non-trainable params: 1,416" in str(s)


def test_depth_controls_nested_rows():
    model = FrozenFeatures()
    shallow = summary(model, (3, 16, 16), depth=1)
    assert [r.name for r in shallow.rows] == ["features", "pool", "head"]
    assert shallow.rows[0].output_shape == (None, 16, 8, 8)
    assert shallow.rows[0].params == sum(p.numel() for p in model.features.parameters())
    deep = summary(model, (3, 16, 16), depth=3)
    assert "features.2.1" in [r.name for r in deep.rows]
    assert [r.depth for r in deep.rows if r.name.startswith("features.0")] == [
        2,
        3,
        3,
        3,
    ]
    assert shallow.total_params == deep.total_params
    # A block's mult-adds are those of its convolutions.
    conv_rows = [r for r in deep.rows if r.type == "Conv2d"]
    assert shallow.rows[0].mult_adds == sum(r.mult_adds for r in conv_rows)


def test_summary_leaves_the_model_unchanged():
    model = FrozenFeatures().train()
    model.features[0].eval()  # a mixed state must survive too
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng_state = torch.get_rng_state()
    summary(model, (3, 16, 16))
    assert model.training and model.head.training
    assert not model.features[0].training and model.features[2].training
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert torch.equal(torch.get_rng_state(), rng_state)
    assert model.features[0][1].num_batches_tracked.item() == 0


def test_summary_runs_native_by_default_and_keeps_layer_impls():
    model = mnist_cnn()
    summary(model, (1, 28, 28))
    assert all(
        m.impl == "scratch"
        for m in model.modules()
        if isinstance(m, nn.SwitchableLayer)
    )


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.image = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten())
        self.extra = nn.Linear(10, 4)

    def forward(self, image: torch.Tensor, extra: torch.Tensor):
        return self.image(image), self.extra(extra)


def test_multiple_inputs_and_outputs():
    s = summary(TwoInputs(), [(1, 5, 5), (10,)])
    assert s.input_shapes == [(None, 1, 5, 5), (None, 10)]
    by_name = {r.name: r for r in s.rows}
    assert by_name["image"].output_shape == (None, 36)
    assert by_name["extra"].output_shape == (None, 4)
    assert s.total_params == 4 * 9 + 4 + 10 * 4 + 4


def test_rows_as_data():
    s = summary(mnist_mlp(), (784,))
    data = s.to_dict()
    assert data["total_params"] == 669_706
    assert data["rows"][1] == {
        "name": "1",
        "type": "Linear",
        "depth": 1,
        "output_shape": (None, 512),
        "params": 401_920,
        "trainable_params": 401_920,
        "mult_adds": 784 * 512,
    }
    json.dumps(data)  # plain data all the way down
    assert repr(s) == str(s)
    header = str(s).splitlines()[3]
    assert header.split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]


def test_summary_rejects_bad_arguments():
    with pytest.raises(TypeError, match="summary: model must be a torch.nn.Module"):
        summary(lambda x: x, (1,))
    with pytest.raises(TypeError, match="summary: input_size must be"):
        summary(mnist_mlp(), 784)
    with pytest.raises(ValueError, match="summary: input sizes must be positive"):
        summary(mnist_mlp(), (0, 784))
    with pytest.raises(ValueError, match="summary: depth must be at least 1"):
        summary(mnist_mlp(), (784,), depth=0)


def test_docstring_examples():
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module("cnnlib.summary"))
    assert result.attempted > 0
    assert result.failed == 0
