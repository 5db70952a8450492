"""Assignment 6: the Inception module of GoogLeNet, with its 1x1 reductions.

Four branches on the same input, each ending in a "same" convolution and a ReLU,
concatenated along the channels in the order 1x1, 3x3, 5x5, pool
(``cnnlib.models.Inception``). See ``cnnlib.grading.blocks`` for the parts; the
"values" part names the wrong branch or layer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch

from cnnlib.grading.blocks import Block, block_check, builder
from cnnlib.grading.cases import reference
from cnnlib.grading.compare import close
from cnnlib.grading.runner import Case, CheckResult

# -- Inception ------------------------------------------------------------------------

_BRANCHES = ("the 1x1 branch", "the 3x3 branch", "the 5x5 branch", "the pool branch")


class _Inception(Block):
    name = "InceptionModule"

    def reference(self, case):
        return builder("Inception")(*case.tensors.values())

    def roles(self, case):
        return [
            "the 1x1 branch's convolution",
            "the 3x3 branch's 1x1 reduction",
            "the 3x3 branch's 3x3 convolution",
            "the 5x5 branch's 1x1 reduction",
            "the 5x5 branch's 5x5 convolution",
            "the pool branch's 1x1 projection",
        ]

    def _widths(self, case):
        t = case.tensors
        return [t["ch1x1"], t["ch3x3"], t["ch5x5"], t["pool_proj"]]

    def formula(self, case, x):
        widths = self._widths(case)
        return (
            f"(N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W) = (N, "
            f"{' + '.join(map(str, widths))} = {sum(widths)}, {x[2]}, {x[3]}): every "
            "branch keeps H x W and the four outputs are concatenated along the "
            "channels"
        )

    def wrong_shapes(self, case, x):
        n, c_in, h, w = x
        widths = self._widths(case)
        total = sum(widths)
        return [
            (
                "the pool branch ends with a 1x1 projection to pool_proj channels",
                (n, total - widths[3] + c_in, h, w),
            ),
            (
                "concatenate the branches along the channels: torch.cat(..., dim=1)",
                (n, widths[0], h * 4, w),
            ),
            (
                "concatenate the branches along the channels: torch.cat(..., dim=1)",
                (n, widths[0], h, w * 4),
            ),
        ]

    def params_hint(self, case, student, reference):
        t = case.tensors
        c_in = t["in_channels"]
        shapes = {s.shape for s in student}
        for k, name in ((3, "ch3x3"), (5, "ch5x5")):
            if (t[name], c_in, k, k) in shapes:
                return (
                    f"the {k}x{k} branch has no 1x1 bottleneck: reduce the {c_in} "
                    f"input channels to {name[:5]}red = {t[name[:5] + 'red']} with a "
                    f"1x1 convolution first, then apply the {k}x{k} convolution"
                )
        return None

    def input_hint(self, case, i, got, ref, x):
        if i == 5:  # the projection reads the pooled input
            if close(got, x, 1e-6, 1e-5):
                return "the pool branch applies its 1x1 projection to the max pooling"
            if close(got, reference("avg_pool2d")(x, 3, 1, 1), 1e-6, 1e-5):
                return "the pool branch uses max pooling, not average pooling"
            return "the pool branch starts with a 3x3 max pooling, stride 1, padding 1"
        return super().input_hint(case, i, got, ref, x)

    def tail_hint(self, case, got, ref, x):
        widths = self._widths(case)
        bounds = [sum(widths[:k]) for k in range(5)]
        want = torch.cat(
            [ref.outputs[0], ref.outputs[2], ref.outputs[4], ref.outputs[5]], dim=1
        )
        relu = reference("relu")
        for b in range(4):
            mine = got[:, bounds[b] : bounds[b + 1]]
            raw = want[:, bounds[b] : bounds[b + 1]]
            if close(mine, raw, 1e-6, 1e-5) and not close(mine, relu(raw), 1e-6, 1e-5):
                return f"{_BRANCHES[b]} has no ReLU after its last convolution"
        branches = [relu(want[:, bounds[b] : bounds[b + 1]]) for b in range(4)]
        for order in itertools.permutations(range(4)):
            if order != (0, 1, 2, 3) and close(
                got, torch.cat([branches[b] for b in order], dim=1), 1e-6, 1e-5
            ):
                return (
                    "the branches are concatenated in another order: 1x1, 3x3, "
                    "5x5, then pool, as in the paper"
                )
        return None

    def forward_error_hint(self):
        return (
            "every branch must keep H x W: padding kernel_size // 2 for the 3x3 and "
            "5x5 convolutions, stride 1 and padding 1 for the 3x3 max pooling; "
            "concatenate along the channels (dim=1)"
        )


def check_inception(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)``
    (the student's ``InceptionModule`` class), the Inception module of GoogLeNet
    with 1x1 reductions (cnnlib.models.Inception): four branches, each a
    "same" convolution followed by ReLU, concatenated in the order 1x1, 3x3, 5x5,
    pool along the channels.

    Parts: "params" (inception (3a), (4e) and (5b): 163,696, 868,352 and
    1,444,080 parameters), "shape", "values" (reference weights copied in; names
    the wrong branch or layer), "random" (hidden), or None.
    """
    names = (
        "in_channels",
        "ch1x1",
        "ch3x3red",
        "ch3x3",
        "ch5x5red",
        "ch5x5",
        "pool_proj",
    )

    def case(label, *widths, hidden=False):
        return Case(label, dict(zip(names, widths, strict=True)), hidden=hidden)

    a3 = case("inception (3a)", 192, 64, 96, 128, 16, 32, 32)
    small = case("a small module", 6, 4, 3, 5, 2, 7, 8)
    public = {
        "params": [
            (a3, None),
            (case("inception (4e)", 528, 256, 160, 320, 32, 128, 128), None),
            (case("inception (5b)", 832, 384, 192, 384, 48, 128, 128), None),
        ],
        "shape": [(a3, (1, 192, 5, 6)), (small, (2, 6, 7, 5))],
        "values": [(small, (2, 6, 7, 5)), (a3, (1, 192, 4, 5))],
    }
    hidden = [
        (case("random module 1", 5, 3, 4, 6, 2, 5, 7, hidden=True), (2, 5, 6, 6)),
        (case("random module 2", 3, 8, 5, 4, 6, 3, 2, hidden=True), (1, 3, 5, 8)),
    ]
    return block_check(_Inception(), fn, part, public, hidden)
