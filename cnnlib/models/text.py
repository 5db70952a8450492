"""A 1-D CNN for sentences (Kim, 2014): embeddings, convolutions of several widths,
max pooling over time.

A sentence of L word indices becomes an (L, d) matrix of embeddings, read as a
sequence of length L with d channels. Each 1-D convolution of width k slides over
k consecutive words: it is a learned detector of k-grams. Max pooling over time
keeps, for each filter, its strongest response anywhere in the sentence, so the
classifier sees "does this k-gram occur?" whatever the sentence's length and
wherever the k-gram is.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from cnnlib import nn


class MaxOverTime(nn.Module):
    """Global max pooling along the last axis: (N, C, L) -> (N, C).

    Each channel keeps its largest value over all positions; the gradient flows
    back to that position only (as in max pooling). Works for any length L.
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3:
            raise ValueError(
                f"MaxOverTime: expected input of shape (N, C, L), got {tuple(x.shape)}"
            )
        return x.amax(dim=-1)


class TextCNN(nn.Module):
    """Kim's sentence classifier: embedding -> Conv1d of several widths -> ReLU ->
    max over time -> dropout -> linear.

    Args:
        vocab_size: number of words; index 0 is padding (its embedding stays 0).
        embed_dim: d, the size of each word vector (channels of the convolutions).
        widths: the filter widths k (words per window), one convolution each.
        n_filters: filters per width.
        num_classes: outputs (logits).
        dropout: drop probability before the last layer.

    Shape:
        input (N, L) int64 word indices, L >= max(widths); output (N, num_classes).

    Parameters: ``vocab_size * d + sum_k (k * d + 1) * n_filters
    + (len(widths) * n_filters + 1) * num_classes``.

    Reference: Y. Kim, Convolutional neural networks for sentence classification,
    EMNLP 2014 (there: d = 300, widths 3, 4, 5, 100 filters each, dropout 0.5).

    Example:
        >>> model = TextCNN(1000, embed_dim=16, widths=(2, 3), n_filters=4)
        >>> model(torch.randint(1, 1000, (5, 12))).shape
        torch.Size([5, 2])
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        widths: Sequence[int],
        n_filters: int,
        num_classes: int = 2,
        dropout: float = 0.5,
    ):
        super().__init__()
        self.widths = tuple(widths)
        self.embed = torch.nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.convs = nn.ModuleList(
            [nn.Conv1d(embed_dim, n_filters, kernel_size=k) for k in self.widths]
        )
        self.relu = nn.ReLU()
        self.pool = MaxOverTime()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(len(self.widths) * n_filters, num_classes)

    def feature_maps(self, tokens: Tensor) -> list[Tensor]:
        """One (N, n_filters, L - k + 1) map of k-gram responses per width k."""
        if tokens.dim() != 2 or tokens.dtype != torch.long:
            raise ValueError(
                "TextCNN: expected (N, L) int64 word indices, got "
                f"{tuple(tokens.shape)} {tokens.dtype}"
            )
        if tokens.shape[1] < max(self.widths):
            raise ValueError(
                f"TextCNN: sentences of {tokens.shape[1]} words are shorter than the "
                f"widest filter ({max(self.widths)} words); pad them"
            )
        words = self.embed(tokens).transpose(1, 2)  # (N, L, d) -> (N, d, L)
        return [self.relu(conv(words)) for conv in self.convs]

    def forward(self, tokens: Tensor) -> Tensor:
        pooled = [self.pool(maps) for maps in self.feature_maps(tokens)]  # (N, F) each
        return self.fc(self.dropout(torch.cat(pooled, dim=1)))  # (N, num_classes)
