"""Keras-style model summary: every layer's output shape and parameter count.

``summary(model, (1, 28, 28))`` runs one forward pass on a batch of zeros with
forward hooks, and returns a ``Summary``: printing it gives the familiar table

    Layer (type)      Output Shape          Param #
    0 (Conv2d)        (None, 32, 26, 26)        320
    ...
    Total params: 1,199,882

and its ``rows`` hold the same numbers as data.

Conventions (each chosen to match Keras where torch allows):

* ``input_size`` excludes the batch dimension, like Keras' ``input_shape``, but is
  channels-first (C, H, W) like torch. The dummy batch holds one sample, and
  shapes are printed with ``None`` for the batch dimension: (None, C, H, W).
* Rows follow the order in which modules were registered (the order of definition
  in ``__init__``), which is the execution order of a ``Sequential``. A module's
  name is its attribute path in the model ("features.0"), as in its state_dict.
* ``Param #`` of a row counts the parameters of the module and of everything inside
  it, so for a block shown with its children the column does not add up; the
  totals count each parameter once.
* Non-trainable params are parameters with ``requires_grad=False`` (frozen).
  Keras also counts BatchNorm's moving mean and variance as non-trainable params;
  torch stores them as buffers, not parameters, so they are reported on their own
  line, "Buffers" (floating-point buffer elements; the integer
  ``num_batches_tracked`` counter is left out). Keras' total = Total params +
  Buffers.
* Mult-adds count the multiply-accumulates of conv and linear layers for one
  sample (bias additions and other layers are left out).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from cnnlib import nn

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class SummaryRow:
    """One module of the summary.

    Attributes:
        name: attribute path in the model, e.g. "features.0".
        type: class name, e.g. "Conv2d".
        depth: nesting level (1 for the model's direct children).
        output_shape: shape of the output with None for the batch dimension, a
            list of shapes for a module returning several tensors, or None if the
            module was not called in the forward pass.
        params: number of parameters, the module's children included.
        trainable_params: those of them with ``requires_grad=True``.
        mult_adds: multiply-accumulates for one sample (conv and linear layers).
    """

    name: str
    type: str
    depth: int
    output_shape: Shape | list[Shape] | None
    params: int
    trainable_params: int
    mult_adds: int


@dataclass(repr=False)
class Summary:
    """What ``summary`` measured; ``str(summary)`` is the Keras-style table.

    Attributes:
        model_name: class name of the model.
        input_shapes: shapes of the inputs, None for the batch dimension.
        rows: one ``SummaryRow`` per module shown.
        total_params: every parameter, counted once.
        trainable_params: parameters with ``requires_grad=True``.
        non_trainable_params: frozen parameters.
        buffer_elements: floating-point buffer elements (BatchNorm's running
            statistics), which Keras would count as non-trainable params.
        mult_adds: multiply-accumulates of the conv and linear layers per sample.
    """

    model_name: str
    input_shapes: list[Shape]
    rows: list[SummaryRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    non_trainable_params: int = 0
    buffer_elements: int = 0
    mult_adds: int = 0

    def to_dict(self) -> dict[str, object]:
        """Everything as plain Python data (rows become dicts), e.g. for JSON."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        header = ("Layer (type)", "Output Shape", "Param #")
        cells = [
            (
                "  " * (row.depth - 1)
                + (f"{row.name} ({row.type})" if row.name else row.type),
                _format_shape(row.output_shape),
                f"{row.params:,}",
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in [header, *cells]) for i in range(3)]

        def line(cols: tuple[str, str, str]) -> str:
            return (
                f"{cols[0]:<{widths[0]}}  {cols[1]:<{widths[1]}}  "
                f"{cols[2]:>{widths[2]}}"
            )

        rule = "=" * (sum(widths) + 4)
        inputs = ", ".join(_format_shape(shape) for shape in self.input_shapes)
        return "\n".join(
            [
                f'Model: "{self.model_name}"',
                f"Input shape: {inputs}",
                rule,
                line(header),
                rule,
                *(line(cols) for cols in cells),
                rule,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
                f"Buffers (running stats, not params): {self.buffer_elements:,}",
                f"Mult-adds per sample: {self.mult_adds:,}",
            ]
        )

    def __repr__(self) -> str:
        # Notebooks display the last value of a cell with repr: show the table.
        return str(self)


def _format_shape(shape: Shape | list[Shape] | None) -> str:
    if shape is None:
        return "--"
    if isinstance(shape, list):
        return ", ".join(_format_shape(s) for s in shape)
    return (
        "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    )


def _output_shapes(output: object) -> Shape | list[Shape] | None:
    """Shape of a tensor output, batch dimension as None; lists for containers."""
    if isinstance(output, torch.Tensor):
        if output.dim() > 0 and output.shape[0] == 1:
            return (None, *output.shape[1:])
        return tuple(output.shape)
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (list, tuple)):
        shapes = []
        for item in output:
            shape = _output_shapes(item)
            if isinstance(shape, list):
                shapes.extend(shape)
            elif shape is not None:
                shapes.append(shape)
        return shapes
    return None


_CONV = (nn.Conv1d, nn.Conv2d, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
_CONV_TRANSPOSE = (
    nn.ConvTranspose2d,
    torch.nn.ConvTranspose1d,
    torch.nn.ConvTranspose2d,
    torch.nn.ConvTranspose3d,
)
_LINEAR = (nn.Linear, torch.nn.Linear)


def _mult_adds(module: torch.nn.Module, inputs: tuple, output: object) -> int:
    """Multiply-accumulates of one call with a batch of one sample."""
    if isinstance(module, _CONV) and isinstance(output, torch.Tensor):
        # Each output element is a dot product over C_in/groups * KH * KW inputs.
        return output.numel() * module.weight[0].numel()
    if isinstance(module, _CONV_TRANSPOSE) and isinstance(inputs[0], torch.Tensor):
        # Each input element is spread over C_out/groups * KH * KW outputs.
        return inputs[0].numel() * module.weight[0].numel()
    if isinstance(module, _LINEAR) and isinstance(output, torch.Tensor):
        return output.numel() * module.in_features
    return 0


def _is_multiple(input_size: Sequence) -> bool:
    """[(1, 28, 28), (10,)] describes two inputs; (1, 28, 28) one."""
    return len(input_size) > 0 and all(isinstance(s, Sequence) for s in input_size)


def summary(
    model: torch.nn.Module,
    input_size: Sequence[int] | Sequence[Sequence[int]],
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    depth: int = 3,
    impl: str | None = "native",
) -> Summary:
    """Summarise ``model`` like Keras' ``model.summary()``, from one forward pass.

    The model is left exactly as it was: the pass runs in eval mode (so Dropout
    is off and BatchNorm does not update its statistics) under ``torch.no_grad()``
    with the global random state saved; train/eval flags and buffers are restored
    afterwards.

    Args:
        model: the network.
        input_size: the shape of one sample, without the batch dimension, e.g.
            (1, 28, 28); a list of shapes for a model taking several inputs.
        dtype: dtype of the dummy input (torch.long for embedding indices).
        device: where the dummy input goes; defaults to the model's device.
        depth: show modules nested up to this level (1: only the model's direct
            children). The totals always cover the whole model.
        impl: run cnnlib layers with this impl ("native" by default, the fastest;
            shapes do not depend on it), or None to keep each layer's own.

    Returns:
        A ``Summary``; print it for the table, read ``rows`` and the totals as data.

    Example:
        >>> from cnnlib import nn, summary
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
        >>> s = summary(model, (1, 28, 28))
        >>> s.total_params, s.rows[1].output_shape
        (7850, (None, 10))
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"summary: model must be a torch.nn.Module, got {type(model)}")
    if not isinstance(input_size, Sequence) or isinstance(input_size, str):
        raise TypeError(
            "summary: input_size must be the shape of one sample without the batch "
            f"dimension, e.g. (1, 28, 28), or a list of such shapes; got {input_size!r}"
        )
    sizes = list(input_size) if _is_multiple(input_size) else [input_size]
    for size in sizes:
        if not all(isinstance(d, int) and d > 0 for d in size):
            raise ValueError(
                f"summary: input sizes must be positive ints, got {tuple(size)}"
            )
    if depth < 1:
        raise ValueError(f"summary: depth must be at least 1, got {depth}")
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    inputs = [torch.zeros(1, *size, dtype=dtype, device=device) for size in sizes]

    named = [(name, m) for name, m in model.named_modules() if name]
    if not named:  # a single layer: it is its own only row
        named = [("", model)]
    outputs: dict[str, object] = {}
    mult_adds: dict[str, int] = {}

    def make_hook(name: str):
        def hook(module, args, output):
            # A module called twice keeps its first output shape; its
            # mult-adds add up over calls.
            outputs.setdefault(name, _output_shapes(output))
            mult_adds[name] = mult_adds.get(name, 0) + _mult_adds(module, args, output)

        return hook

    modes = {m: m.training for m in model.modules()}
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    handles = [m.register_forward_hook(make_hook(name)) for name, m in named]
    switch = nn.use_impl(impl) if impl is not None else contextlib.nullcontext()
    try:
        model.eval()
        with torch.random.fork_rng(devices=[]), torch.no_grad(), switch:
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes.items():
            module.training = mode
        with torch.no_grad():
            for name, b in model.named_buffers():
                b.copy_(buffers[name])

    rows = []
    for name, module in named:
        level = name.count(".") + 1 if name else 1
        if level > depth:
            continue
        params = list(module.parameters())
        rows.append(
            SummaryRow(
                name=name,
                type=type(module).__name__,
                depth=level,
                output_shape=outputs.get(name),
                params=sum(p.numel() for p in params),
                trainable_params=sum(p.numel() for p in params if p.requires_grad),
                # A block's mult-adds are those of the layers inside it.
                mult_adds=sum(
                    mult_adds.get(f"{name}.{sub}" if sub else name, 0)
                    for sub, _ in module.named_modules()
                ),
            )
        )

    params = list(model.parameters())  # each shared parameter once
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params)
    return Summary(
        model_name=type(model).__name__,
        input_shapes=[(None, *size) for size in sizes],
        rows=rows,
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        buffer_elements=sum(
            b.numel() for b in model.buffers() if b.is_floating_point()
        ),
        mult_adds=sum(mult_adds.values()),
    )
