"""Training curves: loss and metrics per epoch, training against validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure

from cnnlib.train.history import History


def _series(history: History | Mapping) -> dict:
    """Flat per-epoch series (``train_loss``, ``val_accuracy``, ...) of a history."""
    if isinstance(history, History):
        return history.as_dict()
    if isinstance(history, Mapping):
        return dict(history)
    raise TypeError(
        "plot_history: history must be a cnnlib.train.History or a dict of "
        f"per-epoch lists, got {type(history).__name__}"
    )


def plot_history(
    history: History | Mapping,
    *,
    metrics: Sequence[str] | None = None,
    show_lr: bool = False,
    panel_size: tuple[float, float] = (4.0, 3.0),
) -> Figure:
    """Plot loss and metrics per epoch, one panel each, train and validation together.

    A gap between the training and the validation curve that keeps widening is
    the signature of over-fitting; the dotted line marks ``best_epoch``.

    Args:
        history: what ``fit`` returned, or ``History.as_dict()`` (e.g. from a
            checkpoint), or any dict of lists named ``train_*`` / ``val_*``.
        metrics: quantities to plot, e.g. ``["loss", "accuracy"]``; default: the
            loss, then every metric recorded.
        show_lr: add a panel with the learning rate (log scale).
        panel_size: width and height of one panel, in inches.

    Returns:
        The figure: one axes per quantity (plus one for the learning rate).

    Example:
        >>> from cnnlib.train import History
        >>> h = History(train_loss=[1.0, 0.6], val_loss=[1.1, 0.8],
        ...             train_metrics={"accuracy": [0.5, 0.7]},
        ...             val_metrics={"accuracy": [0.4, 0.6]}, best_epoch=1)
        >>> len(plot_history(h).axes)
        2
    """
    series = _series(history)
    if metrics is None:
        names = [k.split("_", 1)[1] for k in series if k.startswith(("train_", "val_"))]
        metrics = list(dict.fromkeys(["loss", *names]))  # unique, loss first
    panels = [m for m in metrics if f"train_{m}" in series or f"val_{m}" in series]
    missing = set(metrics) - set(panels)
    if missing:
        raise KeyError(
            f"plot_history: no series for {sorted(missing)}; the history has "
            f"{sorted(k for k in series if isinstance(series[k], list))}"
        )
    if show_lr and series.get("lr"):
        panels.append("lr")
    width, height = panel_size
    fig = Figure(figsize=(width * len(panels), height), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    best = series.get("best_epoch")
    for ax, name in zip(axes, panels, strict=True):
        if name == "lr":
            values = series["lr"]
            ax.plot(range(1, len(values) + 1), values, color="tab:gray")
            ax.set_yscale("log")
            ax.set_title("learning rate")
        for split, style in (("train", "-o"), ("val", "--s")):
            values = series.get(f"{split}_{name}")
            if values:
                epochs = range(1, len(values) + 1)
                ax.plot(epochs, values, style, markersize=3, label=split)
        if name != "lr":
            ax.set_title(name.replace("_", " "))
            ax.legend()
        if best is not None:
            ax.axvline(best + 1, color="gray", linestyle=":", linewidth=1)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    return fig
