"""Every check passes a correct solution and fails each canonical mistake with
the message that names it (the hint), in the part that grades that property."""

import pytest

import cnnlib.grading as g
from cnnlib.grading import diagnose as dx
from tests.grading import mistakes as m
from tests.grading import solutions as ok

CORRECT = [
    (g.check_sigmoid, ok.sigmoid),
    (g.check_sigmoid_grad, ok.sigmoid_grad),
    (g.check_tanh, ok.tanh),
    (g.check_tanh_grad, ok.tanh_grad),
    (g.check_relu, ok.relu),
    (g.check_relu_grad, ok.relu_grad),
    (g.check_softmax, ok.softmax),
    (g.check_cross_entropy, ok.cross_entropy),
    (g.check_two_layer_forward, ok.two_layer_forward),
    (g.check_two_layer_backward, ok.two_layer_backward),
    (g.check_conv_output_size, ok.conv_output_size),
    (g.check_conv_param_count, ok.conv_param_count),
    (g.check_conv2d, ok.conv2d),
    (g.check_conv2d_backward, ok.conv2d_backward),
    (g.check_max_pool2d, ok.max_pool2d),
    (g.check_avg_pool2d, ok.avg_pool2d),
    (g.check_max_pool2d_backward, ok.max_pool2d_backward),
    (g.check_avg_pool2d_backward, ok.avg_pool2d_backward),
]

EXPECTED_PARTS = {
    "sigmoid": ("values", "shape", "stability"),
    "softmax": ("values", "sums_to_one", "stability", "batched"),
    "cross_entropy": ("lecture", "batch_mean", "stability", "random"),
    "two_layer_backward": ("loss", "dW2", "db2", "dW1", "db1"),
    "conv2d": ("lecture", "shape", "channels", "bias", "padding", "stride",
               "dilation", "random", "vectorised"),
    "max_pool2d_backward": ("lecture", "winner_only", "overlapping", "random"),
}  # fmt: skip


@pytest.mark.parametrize(("check", "fn"), CORRECT, ids=lambda v: v.__name__)
def test_a_correct_solution_passes_every_part(check, fn):
    result = check(fn)
    assert isinstance(result, g.CheckResult)
    assert result.cases >= len(result.parts) >= 2
    assert "passed" in repr(result)
    if result.check in EXPECTED_PARTS:
        assert result.parts == EXPECTED_PARTS[result.check]
    for part in result.parts:  # one test cell per part, for partial credit
        assert check(fn, part=part).parts == (part,)


def test_an_unknown_part_is_an_instructor_error():
    with pytest.raises(ValueError, match="no part 'strides'"):
        g.check_conv2d(ok.conv2d, part="strides")


def test_the_loop_version_is_graded_on_tiny_inputs_without_the_vectorised_part():
    result = g.check_conv2d(ok.conv2d_loops, loops=True)
    assert "vectorised" not in result.parts
    with pytest.raises(g.GradingError, match="loops over the output positions"):
        g.check_conv2d(ok.conv2d_loops, part="vectorised")


def test_grading_error_is_an_assertion_error():
    """nbgrader marks a test cell failed when it raises AssertionError."""
    assert issubclass(g.GradingError, AssertionError)


MISTAKES = [
    (g.check_sigmoid, m.sigmoid_overflows, "stability", "exp overflows"),
    (g.check_sigmoid_grad, m.sigmoid_grad_of_x, "values", dx.SIGMOID_GRAD_OF_X),
    (g.check_sigmoid_grad, m.sigmoid_grad_overflows, "stability", "NaN"),
    (g.check_tanh, m.tanh_overflows, "stability", "exp overflows"),
    (g.check_tanh_grad, m.tanh_grad_of_x, "values", dx.TANH_GRAD_OF_X),
    (g.check_relu_grad, m.relu_grad_is_relu, "values", dx.FUNCTION_NOT_GRAD),
    (g.check_relu_grad, m.relu_grad_bool, "values", ".to(x.dtype)"),
    (g.check_relu_grad, m.relu_grad_float32, "shape", "dtype torch.float32"),
    (g.check_softmax, m.softmax_unstable, "stability", "subtract each row's max"),
    (g.check_softmax, m.softmax_dim0, "values", dx.SOFTMAX_AXIS),
    (g.check_softmax, m.softmax_dim0, "sums_to_one", dx.SOFTMAX_AXIS),
    (g.check_softmax, m.softmax_dim0, "batched", dx.SOFTMAX_AXIS),
    (g.check_softmax, m.softmax_global, "values", dx.SOFTMAX_GLOBAL),
    (g.check_cross_entropy, m.cross_entropy_sum, "batch_mean", dx.SUM_NOT_MEAN),
    (g.check_cross_entropy, m.cross_entropy_per_example, "lecture", dx.PER_EXAMPLE),
    (g.check_cross_entropy, m.cross_entropy_log10, "lecture", dx.LOG10),
    (g.check_cross_entropy, m.cross_entropy_unstable, "stability", "log-softmax"),
    (g.check_cross_entropy, m.cross_entropy_softmax_twice, "random", dx.SOFTMAX_TWICE),
    (g.check_cross_entropy, m.cross_entropy_item, "lecture", "not a Python number"),
    (g.check_two_layer_forward, m.forward_no_relu, "relu", dx.NO_RELU),
    (g.check_two_layer_forward, m.forward_relu_on_scores, "values", dx.RELU_ON_SCORES),
    (g.check_two_layer_forward, m.forward_no_b1, "bias", "you forgot b1"),
    (g.check_two_layer_forward, m.forward_transposed, "shape", "transposed"),
    (g.check_two_layer_backward, m.backward_no_mean, "dW2", dx.SUM_NOT_MEAN),
    (g.check_two_layer_backward, m.backward_no_mean, "db1", dx.SUM_NOT_MEAN),
    (g.check_two_layer_backward, m.backward_no_relu_mask, "dW1", dx.NO_RELU_MASK),
    (g.check_two_layer_backward, m.backward_autograd, "loss",
     "called torch.Tensor.backward"),
    (g.check_conv_output_size, m.size_no_dilation, "dilation", "D(K-1)+1 pixels"),
    (g.check_conv_output_size, m.size_true_division, "stride", "floor division //"),
    (g.check_conv_output_size, m.size_padding_once, "padding", "2P per dimension"),
    (g.check_conv_param_count, m.params_no_bias, "lecture", "one bias: + C_out"),
    (g.check_conv_param_count, m.params_no_in_channels, "lecture", "all C_in input"),
    (g.check_conv_param_count, m.params_square, "tuple", "not square"),
    (g.check_conv2d, m.conv_flipped, "lecture", "you flipped the kernel"),
    (g.check_conv2d, m.conv_no_bias, "bias", dx.MISSING_BIAS),
    (g.check_conv2d, m.conv_no_stride, "stride", "did you ignore the stride"),
    (g.check_conv2d, m.conv_no_padding, "padding", dx.PADDING_IGNORED),
    (g.check_conv2d, m.conv_padding_plus_one, "padding", "with padding 2, not 1"),
    (g.check_conv2d, m.conv_no_dilation, "dilation", dx.DILATION_IGNORED),
    (g.check_conv2d, m.conv_kernel_transposed, "channels", dx.KERNEL_TRANSPOSED),
    (g.check_conv2d, m.conv_channels_swapped, "channels", dx.WEIGHT_IN_OUT),
    (g.check_conv2d, m.conv_edge_padding, "padding", dx.NOT_ZERO_PADDING),
    (g.check_conv2d, m.conv_float32, "shape", "dtype=x.dtype"),
    (g.check_conv2d, m.conv_in_place, "shape", "changed its input x in place"),
    (g.check_conv2d, m.conv_numpy, "shape", "numpy.ndarray (use torch.from_numpy)"),
    (g.check_conv2d, m.conv_raises, "stride", "raised ValueError: stride not"),
    (g.check_conv2d_backward, m.conv_backward_not_rotated, "grad_input",
     dx.NOT_ROTATED),
    (g.check_conv2d_backward, m.conv_backward_bias_mean, "grad_bias", "not the mean"),
    (g.check_conv2d_backward, m.conv_backward_bias_per_example, "grad_bias",
     "sum over the batch too"),
    (g.check_max_pool2d, m.max_pool_stride_one, "default_stride", dx.DEFAULT_STRIDE),
    (g.check_avg_pool2d, m.avg_pool_sum, "random", dx.AVG_SUM),
    (g.check_max_pool2d_backward, m.max_pool_backward_everywhere, "winner_only",
     dx.MAX_BACK_EVERYWHERE),
    (g.check_max_pool2d_backward, m.max_pool_backward_assign, "overlapping",
     dx.MAX_BACK_NO_OVERLAP),
    (g.check_avg_pool2d_backward, m.avg_pool_backward_no_scale, "scale",
     dx.AVG_BACK_SCALE),
    (g.check_avg_pool2d_backward, m.avg_pool_backward_assign, "overlapping",
     "accumulate (+=)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "fn", "part", "hint"),
    MISTAKES,
    ids=[f"{fn.__name__}-{part}" for _, fn, part, _ in MISTAKES],
)
def test_a_canonical_mistake_fails_with_the_hint_that_names_it(check, fn, part, hint):
    with pytest.raises(g.GradingError) as failed:
        check(fn, part=part)
    message = str(failed.value)
    assert hint in message
    assert f'part "{part}"' in message  # says where: which part and case


def test_a_mistake_fails_the_whole_check_too():
    with pytest.raises(g.GradingError, match="you flipped the kernel"):
        g.check_conv2d(m.conv_flipped)


def test_a_mistake_confined_to_one_property_keeps_the_other_parts():
    """Partial credit: ignoring the stride fails "stride" and nothing unrelated."""
    for part in ("shape", "channels", "bias", "padding", "dilation"):
        g.check_conv2d(m.conv_no_stride, part=part)


def test_shape_messages_quote_the_formula_with_the_case_numbers():
    with pytest.raises(g.GradingError) as failed:
        g.check_conv2d(m.conv_no_padding, part="padding")
    message = str(failed.value)
    assert "H_out = floor((H + 2P - D(K-1) - 1)/S) + 1" in message
    assert "floor((5 + 2*1 - 1*(3-1) - 1)/1) + 1 = 5" in message
    assert "has shape (2, 4, 3, 4) but expected (2, 4, 5, 6)" in message


def test_training_accuracy():
    assert g.check_training_accuracy(0.93, 0.9).check == "training_accuracy"
    with pytest.raises(g.GradingError, match="below the required 0.9000"):
        g.check_training_accuracy(0.85, 0.9)
    with pytest.raises(g.GradingError, match="divide a percentage by 100"):
        g.check_training_accuracy(93.0, 0.9)
    with pytest.raises(g.GradingError, match="should be a number"):
        g.check_training_accuracy("0.95", 0.9)

    class Always(float):
        def __ge__(self, other):
            return True

        def __lt__(self, other):
            return False

    with pytest.raises(g.GradingError, match="below"):
        g.check_training_accuracy(Always(0.1), 0.9)
