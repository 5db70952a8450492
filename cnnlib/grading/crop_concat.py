"""Assignment 8: crop and concatenate, U-Net's skip connection.

``crop_and_concat(encoder, decoder)`` takes the central H_dec x W_dec window of the
encoder's maps (top = (H_enc - H_dec) // 2, so an odd difference leaves the extra
row at the bottom, as cnnlib's ``center_crop``), then puts the encoder's channels
before the decoder's: (N, C_enc + C_dec, H_dec, W_dec). Forbids cnnlib (its
center_crop).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnlib.grading import diagnose as dx
from cnnlib.grading.cases import generator, randn
from cnnlib.grading.runner import Case, CheckResult, Grader, each_case, run_parts

CORNER_CROP = (
    "you cropped the top-left corner; crop the centre: rows top .. top + H_dec "
    "with top = (H_enc - H_dec) // 2 (and the same for the columns)"
)
FAR_CORNER_CROP = (
    "you cropped the bottom-right corner; crop the centre: top = (H_enc - H_dec) // 2"
)
ROUNDED_UP = (
    "for an odd difference, round the offset down: top = (H_enc - H_dec) // 2, "
    "the extra row goes at the bottom (and the extra column at the right)"
)
ORDER = (
    "the channels are in the wrong order: the encoder's (cropped) maps first, then "
    "the decoder's, torch.cat([cropped, decoder], dim=1)"
)
OFFSETS_SWAPPED = (
    "the row and column offsets are swapped: top comes from the heights, left "
    "from the widths"
)
WRONG_AXIS = "concatenate along the channels, dim=1: (N, C_enc + C_dec, H, W)"


def _crop(x: torch.Tensor, top: int, left: int, h: int, w: int) -> torch.Tensor:
    return x[..., top : top + h, left : left + w]


def _expected_crop_concat(enc, dec, top=None, left=None, first="encoder"):
    h, w = dec.shape[-2:]
    top = (enc.shape[-2] - h) // 2 if top is None else top
    left = (enc.shape[-1] - w) // 2 if left is None else left
    cropped = _crop(enc, top, left, h, w)
    pair = [cropped, dec] if first == "encoder" else [dec, cropped]
    return torch.cat(pair, dim=1)


def _crop_mistakes(case: Case) -> list[dx.Candidate]:
    enc, dec = case.tensors["encoder"], case.tensors["decoder"]
    dh, dw = enc.shape[-2] - dec.shape[-2], enc.shape[-1] - dec.shape[-1]
    wrong = [
        (ORDER, lambda: _expected_crop_concat(enc, dec, first="decoder")),
        (CORNER_CROP, lambda: _expected_crop_concat(enc, dec, 0, 0)),
        (FAR_CORNER_CROP, lambda: _expected_crop_concat(enc, dec, dh, dw)),
        (
            ROUNDED_UP,
            lambda: _expected_crop_concat(enc, dec, -(-dh // 2), -(-dw // 2)),
        ),
        (OFFSETS_SWAPPED, lambda: _expected_crop_concat(enc, dec, dw // 2, dh // 2)),
    ]
    return wrong


def _crop_shapes(case: Case) -> list[tuple[str, tuple[int, ...]]]:
    enc, dec = case.tensors["encoder"], case.tensors["decoder"]
    n, c1, c2 = enc.shape[0], enc.shape[1], dec.shape[1]
    h, w = dec.shape[-2:]
    return [
        (WRONG_AXIS, (2 * n, c1, h, w)),
        (WRONG_AXIS, (n, c1, 2 * h, w)),
        (WRONG_AXIS, (n, c1, h, 2 * w)),
        ("crop the encoder's maps to the decoder's size, H_dec x W_dec",
         (n, c1 + c2, *enc.shape[-2:])),
    ]  # fmt: skip


def grade_crop_and_concat(grader: Grader, case: Case, got: object) -> None:
    enc, dec = case.tensors["encoder"], case.tensors["decoder"]
    expected = _expected_crop_concat(enc, dec)
    formula = (
        f"(N, C_enc + C_dec, H_dec, W_dec) = ({enc.shape[0]}, {enc.shape[1]} + "
        f"{dec.shape[1]}, {dec.shape[2]}, {dec.shape[3]})"
    )

    def hint(m):
        return dx.by_stage(m, lambda: _crop_shapes(case), lambda: _crop_mistakes(case))

    grader.grade(case, got, expected, formula=formula, diagnose=hint)


def check_crop_and_concat(fn: Callable, part: str | None = None) -> CheckResult:
    """Grade ``fn(encoder, decoder) -> (N, C_enc + C_dec, H_dec, W_dec)``.

    The encoder's maps (N, C_enc, H_enc, W_enc), H_enc >= H_dec, W_enc >= W_dec,
    are cropped to their central H_dec x W_dec window (top = (H_enc - H_dec) // 2,
    left likewise) and put before the decoder's along the channels.

    Parts: "shape", "center" (even differences), "odd" (odd differences: the
    extra row and column stay at the bottom and right), "random" (hidden), or
    None. Forbids cnnlib (its center_crop).
    """
    gen = generator(911)

    def pair(label, enc_shape, dec_shape):
        return Case(
            label,
            {"encoder": randn(gen, *enc_shape), "decoder": randn(gen, *dec_shape)},
        )

    groups = {
        "shape": [
            pair("U-Net level: 8x8 decoder, 12x12 encoder", (2, 4, 12, 12),
                 (2, 6, 8, 8)),
            pair("same size: nothing to crop", (2, 3, 5, 6), (2, 2, 5, 6)),
        ],
        "center": [
            pair("even differences", (1, 3, 10, 9), (1, 2, 6, 5)),
            pair("the paper's first level: 64 -> 56", (1, 1, 64, 64),
                 (1, 1, 56, 56)),
        ],
        "odd": [
            pair("odd differences", (2, 2, 9, 8), (2, 3, 6, 5)),
            pair("one extra row", (1, 2, 7, 6), (1, 2, 6, 6)),
        ],
        "random": [
            pair("non-square, mixed differences", (3, 5, 13, 12), (3, 4, 8, 9)),
            pair("one channel each", (2, 1, 6, 9), (2, 1, 3, 4)),
        ],
    }  # fmt: skip
    parts = {
        name: each_case(cases, grade_crop_and_concat) for name, cases in groups.items()
    }
    return run_parts(
        "crop_and_concat", parts, part, fn, forbid=(), what="your crop_and_concat"
    )
