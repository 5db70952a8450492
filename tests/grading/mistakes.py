"""Canonical student mistakes: each a small, realistic edit of ``solutions``.

Every check must fail these with a message that names the mistake.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from tests.grading import solutions as ok


# -- assignment 1 ------------------------------------------------------------------
def sigmoid_overflows(x):
    return torch.exp(x) / (1 + torch.exp(x))


def sigmoid_grad_of_x(x):
    return x * (1 - x)  # the formula s(1 - s) applied to x


def sigmoid_grad_overflows(x):
    return torch.exp(-x) / (1 + torch.exp(-x)) ** 2


def tanh_overflows(x):
    return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))


def tanh_grad_of_x(x):
    return 1 - x**2


def relu_grad_is_relu(x):
    return ok.relu(x)


def relu_grad_bool(x):
    return x > 0


def relu_grad_float32(x):
    return (x > 0).float()


def softmax_unstable(z):
    e = torch.exp(z)
    return e / e.sum(dim=-1, keepdim=True)


def softmax_dim0(z):
    return ok.softmax(z.transpose(0, -1)).transpose(0, -1)


def softmax_global(z):
    e = torch.exp(z - z.max())
    return e / e.sum()


def cross_entropy_sum(logits, labels):
    return cross_entropy_per_example(logits, labels).sum()


def cross_entropy_per_example(logits, labels):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -log_probs[torch.arange(len(labels)), labels]


def cross_entropy_log10(logits, labels):
    return ok.cross_entropy(logits, labels) / math.log(10)


def cross_entropy_unstable(logits, labels):
    probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -torch.log(probs[torch.arange(len(labels)), labels]).mean()


def cross_entropy_softmax_twice(logits, labels):
    return ok.cross_entropy(ok.softmax(logits), labels)


def cross_entropy_item(logits, labels):
    return ok.cross_entropy(logits, labels).item()


# -- assignment 2 ------------------------------------------------------------------
def forward_no_relu(X, W1, b1, W2, b2):
    return (X @ W1 + b1) @ W2 + b2


def forward_relu_on_scores(X, W1, b1, W2, b2):
    return ok.relu(ok.two_layer_forward(X, W1, b1, W2, b2))


def forward_no_b1(X, W1, b1, W2, b2):
    return ok.relu(X @ W1) @ W2 + b2


def forward_transposed(X, W1, b1, W2, b2):
    return ok.two_layer_forward(X, W1, b1, W2, b2).T


def backward_no_mean(X, y, W1, b1, W2, b2):
    n = X.shape[0]
    loss, *grads = ok.two_layer_backward(X, y, W1, b1, W2, b2)
    return (loss, *(g * n for g in grads))


def backward_no_relu_mask(X, y, W1, b1, W2, b2):
    n = X.shape[0]
    pre = X @ W1 + b1
    hidden = ok.relu(pre)
    scores = hidden @ W2 + b2
    dscores = ok.softmax(scores)
    dscores[torch.arange(n), y] -= 1
    dscores /= n
    dhidden = dscores @ W2.T  # the ReLU's derivative is missing
    return (
        ok.cross_entropy(scores, y),
        X.T @ dhidden,
        dhidden.sum(0),
        hidden.T @ dscores,
        dscores.sum(0),
    )


def backward_autograd(X, y, W1, b1, W2, b2):
    params = [p.clone().requires_grad_() for p in (W1, b1, W2, b2)]
    loss = ok.cross_entropy(ok.two_layer_forward(X, *params), y)
    loss.backward()
    return (loss.detach(), *(p.grad for p in params))


# -- assignment 3 ------------------------------------------------------------------
def size_no_dilation(size, kernel_size, padding=0, stride=1, dilation=1):
    return (size + 2 * padding - kernel_size) // stride + 1


def size_true_division(size, kernel_size, padding=0, stride=1, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1


def size_padding_once(size, kernel_size, padding=0, stride=1, dilation=1):
    return (size + padding - dilation * (kernel_size - 1) - 1) // stride + 1


def params_no_bias(in_channels, out_channels, kernel_size, bias=True):
    return ok.conv_param_count(in_channels, out_channels, kernel_size, bias=False)


def params_no_in_channels(in_channels, out_channels, kernel_size, bias=True):
    return ok.conv_param_count(1, out_channels, kernel_size, bias)


def params_square(in_channels, out_channels, kernel_size, bias=True):
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    return ok.conv_param_count(in_channels, out_channels, k, bias)


def conv_flipped(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return ok.conv2d(x, torch.flip(weight, (2, 3)), bias, stride, padding, dilation)


def conv_no_bias(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return ok.conv2d(x, weight, None, stride, padding, dilation)


def conv_no_stride(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return ok.conv2d(x, weight, bias, 1, padding, dilation)


def conv_no_padding(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return ok.conv2d(x, weight, bias, stride, 0, dilation)


def conv_padding_plus_one(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return ok.conv2d(x, weight, bias, stride, padding + 1 if padding else 0, dilation)


def conv_no_dilation(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return ok.conv2d(x, weight, bias, stride, padding, 1)


def conv_kernel_transposed(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return ok.conv2d(x, weight.transpose(2, 3), bias, stride, padding, dilation)


def conv_channels_swapped(x, weight, bias=None, stride=1, padding=0, dilation=1):
    if weight.shape[0] == weight.shape[1]:
        weight = weight.transpose(0, 1)
    return ok.conv2d(x, weight, bias, stride, padding, dilation)


def conv_edge_padding(x, weight, bias=None, stride=1, padding=0, dilation=1):
    x = F.pad(x, (padding,) * 4, mode="replicate") if padding else x
    return ok.conv2d(x, weight, bias, stride, 0, dilation)


def conv_float32(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return ok.conv2d(x, weight, bias, stride, padding, dilation).float()


def conv_in_place(x, weight, bias=None, stride=1, padding=0, dilation=1):
    x /= 1.0000001  # "normalises" the input in place
    return ok.conv2d(x, weight, bias, stride, padding, dilation)


def conv_numpy(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return ok.conv2d(x, weight, bias, stride, padding, dilation).numpy()


def conv_raises(x, weight, bias=None, stride=1, padding=0, dilation=1):
    n, c, h, w = x.shape
    if stride > 1:
        raise ValueError("stride not supported yet")
    return ok.conv2d(x, weight, bias, stride, padding, dilation)


# -- assignment 4 ------------------------------------------------------------------
def conv_backward_not_rotated(grad_out, x, weight, stride=1, padding=0):
    _, grad_w, grad_b = ok.conv2d_backward(grad_out, x, weight, stride, padding)
    grad_x, _, _ = ok.conv2d_backward(
        grad_out, x, torch.flip(weight, (2, 3)), stride, padding
    )
    return grad_x, grad_w, grad_b


def conv_backward_bias_mean(grad_out, x, weight, stride=1, padding=0):
    grad_x, grad_w, _ = ok.conv2d_backward(grad_out, x, weight, stride, padding)
    return grad_x, grad_w, grad_out.mean(dim=(0, 2, 3))


def conv_backward_bias_per_example(grad_out, x, weight, stride=1, padding=0):
    grad_x, grad_w, _ = ok.conv2d_backward(grad_out, x, weight, stride, padding)
    return grad_x, grad_w, grad_out.sum(dim=(2, 3))


def max_pool_stride_one(x, kernel_size, stride=None):
    return ok.max_pool2d(x, kernel_size, 1 if stride is None else stride)


def avg_pool_sum(x, kernel_size, stride=None):
    return ok.avg_pool2d(x, kernel_size, stride) * kernel_size**2


def max_pool_backward_everywhere(grad_out, x, kernel_size, stride=None):
    return ok.avg_pool2d_backward(grad_out, x, kernel_size, stride) * kernel_size**2


def max_pool_backward_assign(grad_out, x, kernel_size, stride=None):
    k = kernel_size
    win, s = ok._windows(x, k, stride)
    n, c, h_out, w_out = grad_out.shape
    best = win.reshape(n, c, h_out, w_out, k * k).argmax(dim=-1)
    rows = torch.arange(h_out)[:, None] * s + best // k
    cols = torch.arange(w_out)[None, :] * s + best % k
    flat = (rows * x.shape[3] + cols).reshape(n, c, -1)
    grad = torch.zeros(n, c, x.shape[2] * x.shape[3], dtype=x.dtype)
    grad.scatter_(2, flat, grad_out.reshape(n, c, -1))  # assigns: overlaps lost
    return grad.reshape(x.shape)


def avg_pool_backward_no_scale(grad_out, x, kernel_size, stride=None):
    return ok.avg_pool2d_backward(grad_out, x, kernel_size, stride) * kernel_size**2


def avg_pool_backward_assign(grad_out, x, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    grad = torch.zeros_like(x)
    for i in range(grad_out.shape[2]):
        for j in range(grad_out.shape[3]):
            share = grad_out[:, :, i, j, None, None] / (k * k)
            grad[:, :, i * s : i * s + k, j * s : j * s + k] = share.expand(
                -1, -1, k, k
            )
    return grad
