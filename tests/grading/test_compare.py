"""compare: type -> dtype -> shape -> NaN/inf -> values, each with its message."""

import numpy as np
import pytest
import torch

from cnnlib.grading import GradingError, compare
from cnnlib.grading.compare import compare_int, find_mismatch

EXPECTED = torch.arange(6, dtype=torch.float64).reshape(2, 3)


def stage_and_message(got, **kwargs):
    mismatch = find_mismatch(got, EXPECTED, **kwargs)
    return (None, "") if mismatch is None else (mismatch.stage, mismatch.message)


def test_a_match_passes_within_the_tolerance():
    assert find_mismatch(EXPECTED + 1e-7, EXPECTED) is None
    compare(EXPECTED.clone(), EXPECTED)


def test_type_comes_first():
    stage, message = stage_and_message(EXPECTED.numpy())
    assert stage == "type"
    assert "expected a torch.Tensor for output, got numpy.ndarray" in message
    assert "(use torch.from_numpy)" in message
    assert "did you forget the `return`" in stage_and_message(None)[1]
    assert "torch.stack" in stage_and_message([1.0, 2.0])[1]


def test_then_dtype_naming_both():
    stage, message = stage_and_message(EXPECTED.float() + 100)
    assert stage == "dtype"
    assert "dtype torch.float32 but expected torch.float64" in message


def test_then_shape_with_the_formula():
    stage, message = stage_and_message(
        torch.zeros(3, 2, dtype=torch.float64), formula="H_out = (H - K) + 1"
    )
    assert stage == "shape"
    assert message == (
        "output has shape (3, 2) but expected (2, 3): H_out = (H - K) + 1"
    )


def test_then_nan_and_inf_with_the_first_index():
    got = EXPECTED.clone()
    got[1, 0] = float("nan")
    got[1, 2] = float("inf")
    stage, message = stage_and_message(got)
    assert stage == "finite"
    assert "has nan at index (1, 0) where 3 was expected" in message


def test_then_values_first_bad_index_errors_and_tolerance():
    got = EXPECTED.clone()
    got[0, 2] += 0.5
    got[1, 1] -= 2.0
    stage, message = stage_and_message(got, hidden=False)
    assert stage == "values"
    assert "wrong at 2 of 6 elements" in message
    assert "first is at index (0, 2): expected 2, got 2.5" in message
    assert "largest absolute error 2," in message
    assert "largest relative error 0.5" in message
    assert "|got - expected| <= 1e-06 + 1e-05 * |expected|" in message


def test_public_cases_show_small_tensors_hidden_cases_never():
    got = EXPECTED + 1
    public = stage_and_message(got, hidden=False)[1]
    hidden = stage_and_message(got, hidden=True)[1]
    assert "expected: [[0, 1, 2], [3, 4, 5]]" in public
    assert "got:      [[1, 2, 3], [4, 5, 6]]" in public
    assert "expected:" not in hidden and "[[" not in hidden
    # only the first wrong element's two numbers appear
    assert "expected 0, got 1" in hidden
    for value in ("3", "4", "5"):
        assert f" {value}," not in hidden.split("largest")[0].replace("(0, 0)", "")


def test_a_scalar_result_reads_naturally():
    mismatch = find_mismatch(torch.tensor(2.5, dtype=torch.float64),
                             torch.tensor(1.0, dtype=torch.float64))  # fmt: skip
    assert mismatch.message.startswith("output is 2.5 but expected 1")


def test_compare_raises_grading_error():
    with pytest.raises(GradingError, match="wrong at 6 of 6"):
        compare(EXPECTED + 1, EXPECTED)


def test_compare_int():
    assert compare_int(4, 4) is None
    assert "use floor division //" in compare_int(4.0, 4).message
    assert "use int(...)" in compare_int(torch.tensor(4), 4).message
    assert "use int(...)" in compare_int(np.int64(4), 4).message
    assert compare_int(True, 1).stage == "type"  # a bool is not a size
    assert compare_int(5, 4).message == "result is 5 but expected 4"
