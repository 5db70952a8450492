"""Early stopping: stop training when a validation metric stops improving.

The lecture's answer to over-fitting with too many iterations: watch the
validation set and stop when it no longer gets better, keeping the weights of the
best epoch rather than those of the last.
"""

from __future__ import annotations

import math

import torch


class EarlyStopping:
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves on the best value so far when it is lower by more than
    ``min_delta`` (mode "min") or higher by more than ``min_delta`` (mode "max").
    Pass an instance to ``fit(early_stopping=...)``; ``fit`` calls ``reset`` when it
    starts and ``step`` after each epoch, and at the end of training restores the
    best weights (if ``restore_best_weights``), whether or not it stopped early.

    Args:
        monitor: a flat series name of ``History``: "val_loss", "val_accuracy",
            "val_mean_iou", "train_loss", ...
        mode: "min" or "max"; default "min" if the name contains "loss", else "max".
        patience: epochs without improvement tolerated before stopping.
        min_delta: smallest change that counts as an improvement.
        restore_best_weights: keep a copy of the best epoch's ``state_dict``.

    Attributes:
        best: best monitored value so far; best_epoch: its epoch (0-based);
        stopped_epoch: the epoch after which training stopped, or None.

    Example:
        >>> import torch
        >>> model = torch.nn.Linear(2, 1)
        >>> stopper = EarlyStopping("val_loss", patience=1)
        >>> [stopper.step(loss, model) for loss in [1.0, 0.5, 0.6, 0.7]]
        [False, False, False, True]
        >>> stopper.best, stopper.best_epoch
        (0.5, 1)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str | None = None,
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
    ) -> None:
        if mode is None:
            mode = "min" if "loss" in monitor else "max"
        if mode not in ("min", "max"):
            raise ValueError(
                f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}"
            )
        if patience < 0 or min_delta < 0:
            raise ValueError("EarlyStopping: patience and min_delta must be >= 0")
        self.monitor = monitor
        self.mode = mode
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights
        self.reset()

    def reset(self) -> None:
        """Forget the previous run (``fit`` calls this when it starts)."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self._epoch = -1
        self._wait = 0

    def improved(self, value: float) -> bool:
        """Whether ``value`` beats the best so far by more than ``min_delta``."""
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value: float, model: torch.nn.Module | None = None) -> bool:
        """Record one epoch's monitored ``value``; return True when training must stop.

        Args:
            value: the monitored quantity of the epoch just finished.
            model: the model, whose weights are copied when the epoch is the best.
        """
        self._epoch += 1
        if math.isnan(value):
            self._wait += 1  # a diverged epoch never counts as an improvement
        elif self.improved(value):
            self.best, self.best_epoch, self._wait = value, self._epoch, 0
            if self.restore_best_weights and model is not None:
                # clone(): state_dict tensors share storage with the live weights.
                self.best_state = {
                    name: tensor.detach().clone()
                    for name, tensor in model.state_dict().items()
                }
        else:
            self._wait += 1
        if self._wait > self.patience:
            self.stopped_epoch = self._epoch
            return True
        return False

    def restore(self, model: torch.nn.Module) -> bool:
        """Load the best epoch's weights into ``model``; False if none were kept."""
        if self.best_state is None:
            return False
        model.load_state_dict(self.best_state)
        return True
