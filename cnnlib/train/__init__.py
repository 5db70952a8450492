"""Training: the ``fit`` loop, metrics, schedules, early stopping, checkpoints.

``fit(model, loader, epochs=..., optimizer=...)`` trains any ``torch.nn.Module``
and returns a ``History`` that ``cnnlib.viz.plot_history`` draws. Around it:

* ``evaluate`` / ``predict``: loss and metrics over a loader, model outputs;
* ``metrics``: accuracy, top-k, confusion matrix, IoU and Dice;
* ``schedules``: the lectures' step and exponential learning-rate decay;
* ``EarlyStopping``, ``save_checkpoint`` / ``load_checkpoint``;
* ``optim``: SGD, RMSprop and Adam written out as readable update rules;
* ``amp``: mixed precision and channels-last options of ``fit``;
* ``distributed``: multi-GPU data parallelism with DDP and ``torchrun``.

Example:
    >>> import torch
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> from cnnlib.train import fit
    >>> x = torch.randn(32, 4)
    >>> loader = DataLoader(TensorDataset(x, (x.sum(1) > 0).long()), batch_size=8)
    >>> model = torch.nn.Linear(4, 2)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> history = fit(model, loader, epochs=2, optimizer=opt, device="cpu",
    ...               progress=False)
    >>> len(history)
    2
"""

from cnnlib.train import optim
from cnnlib.train.checkpoint import load_checkpoint, save_checkpoint
from cnnlib.train.distributed import (
    DistributedInfo,
    cleanup_distributed,
    distributed_loader,
    init_distributed,
    wrap_ddp,
)
from cnnlib.train.early_stopping import EarlyStopping
from cnnlib.train.evaluate import evaluate, predict
from cnnlib.train.history import History
from cnnlib.train.loop import fit, train_one_epoch
from cnnlib.train.metrics import (
    accuracy,
    confusion_matrix,
    dice_per_class,
    iou_per_class,
    mean_dice,
    mean_iou,
    top_k_accuracy,
)
from cnnlib.train.schedules import (
    ExponentialDecay,
    StepDecay,
    exponential_decay,
    step_decay,
)
from cnnlib.train.tracker import MetricTracker

__all__ = [
    "DistributedInfo",
    "EarlyStopping",
    "ExponentialDecay",
    "History",
    "MetricTracker",
    "StepDecay",
    "accuracy",
    "cleanup_distributed",
    "confusion_matrix",
    "dice_per_class",
    "distributed_loader",
    "evaluate",
    "exponential_decay",
    "fit",
    "init_distributed",
    "iou_per_class",
    "load_checkpoint",
    "mean_dice",
    "mean_iou",
    "optim",
    "predict",
    "save_checkpoint",
    "step_decay",
    "top_k_accuracy",
    "train_one_epoch",
    "wrap_ddp",
]
