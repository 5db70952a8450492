"""``History``: what ``fit`` measured at every epoch, as plain Python lists.

Keeping the record in plain floats (no tensors, no DataFrame) means it prints
readably, pickles, goes into a checkpoint loaded with ``weights_only=True``, and
``cnnlib.viz.plot_history`` draws it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """Per-epoch record of a training run; every list has one entry per epoch.

    Attributes:
        train_loss: mean training loss of each epoch (over the batches as trained,
            so with dropout and augmentation active).
        val_loss: mean validation loss (empty without a validation loader).
        train_metrics: metric name -> per-epoch values on the training batches.
        val_metrics: metric name -> per-epoch values on the validation set.
        lr: learning rate of the first parameter group during each epoch.
        epoch_time: seconds spent on each epoch (training and validation).
        images_per_sec: training throughput of each epoch (samples per second).
        best_epoch: index (0-based, into the lists above) of the epoch with the
            best monitored value: ``early_stopping.monitor`` if given, otherwise
            ``val_loss``, otherwise ``train_loss``.
        monitor: the name of the monitored quantity, e.g. ``"val_loss"``.

    Example:
        >>> h = History(train_loss=[1.0, 0.5], train_metrics={"accuracy": [0.6, 0.8]})
        >>> h.as_dict()["train_accuracy"]
        [0.6, 0.8]
        >>> History.from_dict(h.as_dict()) == h
        True
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_metrics: dict[str, list[float]] = field(default_factory=dict)
    val_metrics: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    images_per_sec: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    monitor: str = "val_loss"

    def __len__(self) -> int:
        """Number of epochs recorded."""
        return len(self.train_loss)

    def series(self) -> dict[str, list[float]]:
        """Every per-epoch series under a flat name: ``train_loss``, ``val_accuracy``,
        ``lr``, ... (the names ``EarlyStopping(monitor=...)`` accepts)."""
        out = {"train_loss": self.train_loss}
        out.update({f"train_{k}": v for k, v in self.train_metrics.items()})
        out["val_loss"] = self.val_loss
        out.update({f"val_{k}": v for k, v in self.val_metrics.items()})
        out.update(lr=self.lr, epoch_time=self.epoch_time)
        out["images_per_sec"] = self.images_per_sec
        # Series never recorded (no validation loader, say) are left out.
        return {name: values for name, values in out.items() if values}

    def epoch(self, index: int) -> dict[str, float]:
        """The values of one epoch (``index`` as in a list, -1 = last) by flat name."""
        return {name: values[index] for name, values in self.series().items()}

    def as_dict(self) -> dict[str, list[float] | int | str | None]:
        """Plain-type copy: the flat series plus ``best_epoch`` and ``monitor``."""
        out: dict = {name: list(values) for name, values in self.series().items()}
        out.update(best_epoch=self.best_epoch, monitor=self.monitor)
        return out

    @classmethod
    def from_dict(cls, record: dict) -> History:
        """Rebuild a ``History`` from ``as_dict()`` output (e.g. from a checkpoint)."""
        history = cls(
            best_epoch=record.get("best_epoch"),
            monitor=record.get("monitor", "val_loss"),
        )
        for name, values in record.items():
            if name in ("best_epoch", "monitor"):
                continue
            if name in ("train_loss", "val_loss", "lr", "epoch_time", "images_per_sec"):
                setattr(history, name, list(values))
            elif name.startswith("train_"):
                history.train_metrics[name.removeprefix("train_")] = list(values)
            elif name.startswith("val_"):
                history.val_metrics[name.removeprefix("val_")] = list(values)
            else:
                raise ValueError(f"History.from_dict: unknown series {name!r}")
        return history

    def append(self, record: dict[str, float]) -> None:
        """Add one epoch given by flat name (as ``epoch()`` returns it)."""
        for name, value in record.items():
            if name in ("train_loss", "val_loss", "lr", "epoch_time", "images_per_sec"):
                getattr(self, name).append(value)
            elif name.startswith("train_"):
                key = name.removeprefix("train_")
                self.train_metrics.setdefault(key, []).append(value)
            elif name.startswith("val_"):
                self.val_metrics.setdefault(name.removeprefix("val_"), []).append(value)
            else:
                raise ValueError(f"History.append: unknown series {name!r}")
