"""Assignment 6: the VGG block and the mlpconv block of Network in Network.

A VGG block is num_convs times (3x3 convolution, padding 1, ReLU), then 2x2 max
pooling with stride 2 (``cnnlib.models.make_features``); an mlpconv block is a
k x k convolution (padding k // 2) and two 1x1 convolutions, each followed by a
ReLU (``cnnlib.models.mlpconv``). See ``cnnlib.grading.blocks`` for the parts.
"""

from __future__ import annotations

from collections.abc import Callable

from cnnlib.grading.blocks import Block, block_check, builder
from cnnlib.grading.cases import reference
from cnnlib.grading.compare import close
from cnnlib.grading.runner import Case, CheckResult


def _pool(x, k=2, s=2):
    return reference("max_pool2d")(x, k, stride=s)


# -- VGG ------------------------------------------------------------------------------


class _VGGBlock(Block):
    name = "vgg_block"

    def reference(self, case):
        c_in, c_out, n = case.tensors.values()
        return builder("make_features")([c_out] * n + ["M"], c_in)

    def roles(self, case):
        n = case.tensors["num_convs"]
        return [f"convolution {k + 1} of {n}" for k in range(n)]

    def formula(self, case, x):
        c_out, n = case.tensors["out_channels"], case.tensors["num_convs"]
        return (
            f"(N, out_channels, floor(H/2), floor(W/2)) = (N, {c_out}, "
            f"{x[2] // 2}, {x[3] // 2}): {n} 3x3 convolutions with padding 1 keep "
            "H x W, then the 2x2 max pooling with stride 2 halves them"
        )

    def wrong_shapes(self, case, x):
        c_out, n = case.tensors["out_channels"], case.tensors["num_convs"]
        nn_, _, h, w = x
        shrunk = (nn_, c_out, (h - 2 * n) // 2, (w - 2 * n) // 2)
        return [
            (
                "the block ends with a 2x2 max pooling (stride 2) that halves H and W",
                (nn_, c_out, h, w),
            ),
            (
                "the pooling moves 2 pixels at a time: stride=2 (the default)",
                (nn_, c_out, h - 1, w - 1),
            ),
            ("padding=1 keeps H x W through each 3x3 convolution", shrunk),
        ]

    def params_hint(self, case, student, reference):
        if any(len(s.shape) == 4 and s.shape[2:] == (5, 5) for s in student):
            return (
                "VGG uses 3x3 kernels only: two stacked 3x3 convolutions see a 5x5 "
                "window with fewer parameters"
            )
        if len(student) != len(reference):
            n = len(reference)
            return f"a block of num_convs={n} has {n} convolutions"
        return None

    def tail_hint(self, case, got, ref, x):
        last = ref.outputs[max(ref.outputs)]  # the last convolution, before its ReLU
        relu = reference("relu")
        if close(got, _pool(last), 1e-6, 1e-5):
            return "there is no ReLU after the last convolution (before the pooling)"
        if close(got, reference("avg_pool2d")(relu(last), 2, stride=2), 1e-6, 1e-5):
            return "VGG pools with the max of each 2x2 window, not the mean"
        return None


def check_vgg_block(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(in_channels, out_channels, num_convs) -> nn.Module``, a VGG block:
    num_convs times (3x3 convolution with padding 1, ReLU), then 2x2 max pooling
    with stride 2 (cnnlib.models.make_features([out_channels] * num_convs + ["M"])).

    Parts: "params" (VGG-16's blocks 1, 3 and 5: 38,720, 1,475,328 and 7,079,424
    parameters), "shape", "values" (reference weights copied in), "random"
    (hidden configurations), or None.
    """

    def case(c_in, c_out, n, hidden=False):
        args = {"in_channels": c_in, "out_channels": c_out, "num_convs": n}
        return Case(
            f"{n} convolutions, {c_in} -> {c_out} channels", args, hidden=hidden
        )

    public = {
        "params": [
            (case(3, 64, 2), None),
            (case(128, 256, 3), None),
            (case(512, 512, 3), None),
        ],
        "shape": [(case(3, 8, 2), (2, 3, 8, 10)), (case(2, 4, 3), (1, 2, 7, 9))],
        "values": [(case(3, 6, 2), (2, 3, 8, 8)), (case(4, 5, 3), (1, 4, 6, 10))],
    }
    hidden = [
        (case(1, 7, 1, True), (2, 1, 9, 8)),
        (case(5, 3, 3, True), (1, 5, 10, 7)),
        (case(6, 6, 2, True), (2, 6, 4, 5)),
    ]
    return block_check(_VGGBlock(), fn, part, public, hidden)


# -- NiN ------------------------------------------------------------------------------


class _MLPConv(Block):
    name = "mlpconv"

    def reference(self, case):
        c_in, channels, k = case.tensors.values()
        return builder("mlpconv")(c_in, channels, k)

    def roles(self, case):
        k = case.tensors["kernel_size"]
        return [
            f"the {k}x{k} convolution",
            "the first 1x1 convolution",
            "the second 1x1 convolution",
        ]

    def formula(self, case, x):
        c3, k = case.tensors["channels"][2], case.tensors["kernel_size"]
        return (
            f"(N, channels[2], H, W) = (N, {c3}, {x[2]}, {x[3]}): the {k}x{k} "
            f"convolution has padding {k // 2} (kernel_size // 2), the 1x1 "
            "convolutions keep H x W"
        )

    def wrong_shapes(self, case, x):
        c3, k = case.tensors["channels"][2], case.tensors["kernel_size"]
        n, _, h, w = x
        return [
            (
                f"padding={k // 2} (kernel_size // 2) keeps H x W",
                (n, c3, h - k + 1, w - k + 1),
            ),
            (
                "an mlpconv block has no pooling (NiN pools between blocks)",
                (n, c3, h // 2, w // 2),
            ),
        ]

    def params_hint(self, case, student, reference):
        k = case.tensors["kernel_size"]
        if (
            k != 1
            and sum(len(s.shape) == 4 and s.shape[2:] == (k, k) for s in student) > 1
        ):
            return (
                "only the first convolution is k x k; the next two are 1x1: the "
                "small MLP applied at every pixel"
            )
        return None

    def tail_hint(self, case, got, ref, x):
        last = ref.outputs[max(ref.outputs)]
        if close(got, last, 1e-6, 1e-5):
            return "the block ends with a ReLU after the last 1x1 convolution"
        return None


def check_mlpconv(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(in_channels, channels, kernel_size) -> nn.Module``, an mlpconv
    (NiN) block: k x k convolution (padding k // 2), ReLU, 1x1 convolution, ReLU,
    1x1 convolution, ReLU; ``channels`` gives the three output widths
    (cnnlib.models.mlpconv).

    Parts: "params" (the three blocks of NiN for CIFAR-10: 60,928, 535,104 and
    370,954 parameters), "shape", "values", "random"
    (hidden), or None.
    """

    def case(c_in, channels, k, hidden=False):
        args = {"in_channels": c_in, "channels": channels, "kernel_size": k}
        label = f"{k}x{k}, {c_in} -> {' -> '.join(map(str, channels))}"
        return Case(label, args, hidden=hidden)

    public = {
        "params": [
            (case(3, (192, 160, 96), 5), None),
            (case(96, (192, 192, 192), 5), None),
            (case(192, (192, 192, 10), 3), None),
        ],
        "shape": [
            (case(3, (8, 6, 4), 5), (2, 3, 9, 10)),
            (case(2, (5, 4, 3), 3), (1, 2, 6, 7)),
        ],
        "values": [
            (case(3, (8, 6, 4), 5), (2, 3, 9, 10)),
            (case(4, (6, 5, 7), 3), (1, 4, 7, 6)),
        ],
    }
    hidden = [
        (case(2, (7, 5, 3), 3, True), (2, 2, 8, 9)),
        (case(5, (4, 6, 8), 1, True), (1, 5, 5, 6)),
        (case(1, (9, 7, 2), 5, True), (2, 1, 7, 7)),
    ]
    return block_check(_MLPConv(), fn, part, public, hidden)
