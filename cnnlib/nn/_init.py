"""The default initialisation of torch's Linear and conv layers, shared by ours.

Using the same scheme (and the same order of random draws) as ``torch.nn`` means a
cnnlib layer created after ``torch.manual_seed(s)`` starts from exactly the same
weights as its torch twin, so the two train identically.
"""

from __future__ import annotations

import math

import torch


def reset_weight_and_bias_(weight: torch.Tensor, bias: torch.Tensor | None) -> None:
    """Fill ``weight`` and ``bias`` with U(-1/sqrt(fan_in), 1/sqrt(fan_in)) in place.

    ``fan_in`` is the number of inputs feeding one output unit: ``in_features`` for
    a Linear layer, ``C_in/groups * KH * KW`` for a conv. Kaiming-uniform with
    ``a = sqrt(5)`` has bound ``sqrt(6 / ((1 + a^2) fan_in)) = 1/sqrt(fan_in)``: it is
    torch's way of writing this classic rule, kept so results match torch.nn.
    For ReLU networks trained from scratch, ``torch.nn.init.kaiming_normal_`` (He et
    al., 2015) is often better; the models that want it apply it themselves.

    Args:
        weight: (C_out, C_in/groups, *kernel) or (out_features, in_features).
        bias: (C_out,) or None.
    """
    torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(weight)
        if fan_in > 0:
            bound = 1 / math.sqrt(fan_in)
            torch.nn.init.uniform_(bias, -bound, bound)
