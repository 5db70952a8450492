"""Correct student solutions, written from ordinary tensor operations.

They never call cnnlib.ops nor torch's own conv/pool/activation/loss kernels, so
every check must pass them. The canonical mistakes in ``mistakes.py`` are small
edits of these.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


# -- assignment 1 ------------------------------------------------------------------
def sigmoid(x):
    positive = 1 / (1 + torch.exp(-x.clamp(min=0)))
    e = torch.exp(x.clamp(max=0))
    return torch.where(x >= 0, positive, e / (1 + e))


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    e = torch.exp(-2 * x.abs())
    return torch.sign(x) * (1 - e) / (1 + e)


def tanh_grad(x):
    return 1 - tanh(x) ** 2


def relu(x):
    return torch.where(x > 0, x, torch.zeros_like(x))


def relu_grad(x):
    return (x > 0).to(x.dtype)


def softmax(z):
    e = torch.exp(z - z.max(dim=-1, keepdim=True).values)
    return e / e.sum(dim=-1, keepdim=True)


def cross_entropy(logits, labels):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -log_probs[torch.arange(len(labels)), labels].mean()


# -- assignment 2 ------------------------------------------------------------------
def two_layer_forward(X, W1, b1, W2, b2):
    return relu(X @ W1 + b1) @ W2 + b2


def two_layer_backward(X, y, W1, b1, W2, b2):
    n = X.shape[0]
    pre = X @ W1 + b1
    hidden = relu(pre)
    scores = hidden @ W2 + b2
    loss = cross_entropy(scores, y)
    dscores = softmax(scores)
    dscores[torch.arange(n), y] -= 1
    dscores /= n
    dW2 = hidden.T @ dscores
    db2 = dscores.sum(dim=0)
    dhidden = dscores @ W2.T * (pre > 0)
    return loss, X.T @ dhidden, dhidden.sum(dim=0), dW2, db2


# -- assignment 3 ------------------------------------------------------------------
def conv_output_size(size, kernel_size, padding=0, stride=1, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def conv_param_count(in_channels, out_channels, kernel_size, bias=True):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return out_channels * in_channels * kh * kw + (out_channels if bias else 0)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    w_out = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    cols = F.unfold(x, (kh, kw), dilation=dilation, padding=padding, stride=stride)
    out = weight.reshape(c_out, -1) @ cols  # (N, C_out, L)
    if bias is not None:
        out = out + bias[:, None]
    return out.reshape(n, c_out, h_out, w_out)


def conv2d_loops(x, weight, bias=None, stride=1, padding=0, dilation=1):
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    xp = F.pad(x, (padding,) * 4)
    h_out = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    w_out = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = torch.zeros(n, c_out, h_out, w_out, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            rows = slice(i * stride, i * stride + dilation * (kh - 1) + 1, dilation)
            cols = slice(j * stride, j * stride + dilation * (kw - 1) + 1, dilation)
            patch = xp[:, :, rows, cols]  # (N, C_in, KH, KW)
            out[:, :, i, j] = torch.einsum("nckl,ockl->no", patch, weight)
    if bias is not None:
        out += bias[:, None, None]
    return out


# -- assignment 4 ------------------------------------------------------------------
def conv2d_backward(grad_out, x, weight, stride=1, padding=0):
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (N, C_in*KH*KW, L)
    g = grad_out.reshape(n, c_out, -1)  # (N, C_out, L)
    grad_w = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape)
    grad_cols = weight.reshape(c_out, -1).T @ g  # (N, C_in*KH*KW, L)
    grad_x = F.fold(grad_cols, (h, w), (kh, kw), padding=padding, stride=stride)
    return grad_x, grad_w, grad_out.sum(dim=(0, 2, 3))


def _windows(x, k, stride):
    s = k if stride is None else stride
    return x.unfold(2, k, s).unfold(3, k, s), s  # (N, C, H_out, W_out, K, K)


def max_pool2d(x, kernel_size, stride=None):
    win, _ = _windows(x, kernel_size, stride)
    return win.amax(dim=(-2, -1))


def avg_pool2d(x, kernel_size, stride=None):
    win, _ = _windows(x, kernel_size, stride)
    return win.mean(dim=(-2, -1))


def max_pool2d_backward(grad_out, x, kernel_size, stride=None):
    k = kernel_size
    win, s = _windows(x, k, stride)
    n, c, h_out, w_out = grad_out.shape
    best = win.reshape(n, c, h_out, w_out, k * k).argmax(dim=-1)
    rows = torch.arange(h_out)[:, None] * s + best // k
    cols = torch.arange(w_out)[None, :] * s + best % k
    flat = (rows * x.shape[3] + cols).reshape(n, c, -1)
    grad = torch.zeros(n, c, x.shape[2] * x.shape[3], dtype=x.dtype)
    grad.scatter_add_(2, flat, grad_out.reshape(n, c, -1))
    return grad.reshape(x.shape)


def avg_pool2d_backward(grad_out, x, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    n, c, h, w = x.shape
    g = grad_out.reshape(n * c, 1, -1).expand(-1, k * k, -1) / (k * k)
    grad = F.fold(g, (h, w), (k, k), stride=s)
    return grad.reshape(x.shape)
