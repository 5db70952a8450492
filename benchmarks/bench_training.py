"""Training benchmark: can the book's networks reach their goals on a laptop CPU?

Four tasks, each meant to finish in at most 3 minutes on a 2-core CPU:

* LeNet-5 on scikit-learn's 8x8 digits (upsampled to 32x32): test accuracy >= 97%;
* LeNet-5 on MNIST-5k (28x28 padded to 32x32): test accuracy >= 97%;
* a small CNN against an MLP with about the same number of parameters on the
  procedural colour shapes: the CNN must win by at least 15 points;
* a small padded U-Net on the procedural segmentation scenes: mean IoU >= 0.85.

Usage::

    python benchmarks/bench_training.py             # every task, full settings
    python benchmarks/bench_training.py --quick      # smoke run, seconds
    python benchmarks/bench_training.py --tasks unet --device cuda --impl scratch

Prints one table row per model: task, model, parameters, test accuracy or mean IoU,
wall time, CPU time (of all threads; unlike the wall time, it does not grow when
other jobs share the machine), training images per second, and whether the goal
is met. The layers run torch's native kernels by default (``--impl scratch`` for
the from-scratch ops, several times slower). On a machine busy with other jobs,
``--threads 1`` avoids the slowdown of threads waiting for each other.

Each model trains with AdamW and the lectures' exponential learning-rate decay,
and is tested with the weights of its best validation epoch (``EarlyStopping``
with ``restore_best_weights``); the test split is used only for the final score.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from cnnlib import data, models, nn  # noqa: E402
from cnnlib.train import EarlyStopping, ExponentialDecay, evaluate, fit  # noqa: E402


@dataclass
class Run:
    """One model trained on one task: how to build it and how to train it."""

    task: str
    model_name: str
    build: Callable[[], torch.nn.Module]
    epochs: int
    lr: float
    batch_size: int = 64
    weight_decay: float = 0.0
    transform: Callable | None = None
    metric: str = "accuracy"
    final_lr: float = 0.05  # the last epoch's lr, as a fraction of the first


@dataclass
class Task:
    """A dataset, the runs trained on it, and how to judge the results."""

    name: str
    splits: Callable[[bool], data.DatasetSplits]  # quick -> splits
    runs: list[Run] = field(default_factory=list)
    goal: str = ""
    judge: Callable[[dict[str, float]], bool] = lambda scores: True


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- data


def digits_32(quick: bool) -> data.DatasetSplits:
    """8x8 digits upsampled 4x (nearest) to the 32x32 input LeNet-5 expects.

    Padding 8x8 to 32x32 would leave a digit only 2 pixels wide after the first
    pooling; upsampling keeps the digit filling the field of view, as in MNIST.
    """
    splits = data.digits()
    for name in ("train", "val", "test"):
        images, labels = getattr(splits, name).tensors
        images = F.interpolate(images, scale_factor=4, mode="nearest")  # (N,1,32,32)
        setattr(splits, name, TensorDataset(images, labels))
    return _shrink(splits) if quick else splits


def mnist_32(quick: bool) -> data.DatasetSplits:
    splits = data.mnist5k(pad_to=32)
    return _shrink(splits) if quick else splits


def shapes(quick: bool) -> data.DatasetSplits:
    return data.shapes_splits(n=600 if quick else 12_000, size=32)


def scenes(quick: bool) -> data.DatasetSplits:
    # 48x48: objects stay large enough to recognise, at half the cost of 64x64.
    return data.segmentation_splits(n=120 if quick else 3_000, size=48)


def _shrink(splits: data.DatasetSplits, n: int = 256) -> data.DatasetSplits:
    for name in ("train", "val", "test"):
        images, labels = getattr(splits, name).tensors
        setattr(splits, name, TensorDataset(images[:n], labels[:n]))
    return splits


# --------------------------------------------------------------------------- models


def small_cnn(num_classes: int = 10, in_channels: int = 3) -> nn.Sequential:
    """Four conv-BN-ReLU blocks, global average pooling, one linear layer (61,338)."""

    def block(c_in: int, c_out: int, pool: bool) -> list[nn.Module]:
        layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)]
        layers += [nn.BatchNorm2d(c_out), nn.ReLU()]
        return layers + [nn.MaxPool2d(2)] if pool else layers

    return nn.Sequential(
        *block(in_channels, 16, pool=True),  # (N, 16, 16, 16)
        *block(16, 32, pool=True),  # (N, 32, 8, 8)
        *block(32, 64, pool=True),  # (N, 64, 4, 4)
        *block(64, 64, pool=False),  # (N, 64, 4, 4)
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, num_classes),
    )


def small_mlp(num_classes: int = 10) -> nn.Sequential:
    """3072 -> 20 -> 10: about the small CNN's parameter count (61,670)."""
    return models.mlp(3 * 32 * 32, hidden_sizes=(20,), num_classes=num_classes)


# ---------------------------------------------------------------------------- tasks


def tasks() -> dict[str, Task]:
    shift = data.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1))
    flips = data.Compose([data.RandomHorizontalFlip(), data.RandomVerticalFlip()])
    return {
        "digits": Task(
            "digits",
            digits_32,
            [
                Run(
                    "digits",
                    "LeNet-5",
                    lambda: models.lenet5(),
                    40,
                    2e-3,
                    32,
                    transform=shift,
                )
            ],
            goal="test accuracy >= 0.97",
            judge=lambda s: s["LeNet-5"] >= 0.97,
        ),
        "mnist5k": Task(
            "mnist5k",
            mnist_32,
            [
                Run(
                    "mnist5k",
                    "LeNet-5",
                    lambda: models.lenet5(),
                    30,
                    2e-3,
                    32,
                    transform=shift,
                )
            ],
            goal="test accuracy >= 0.97",
            judge=lambda s: s["LeNet-5"] >= 0.97,
        ),
        "shapes": Task(
            "shapes",
            shapes,
            [
                Run("shapes", "small CNN", small_cnn, 15, 3e-3, 64, 1e-4),
                Run("shapes", "MLP", small_mlp, 15, 1e-3, 64, 1e-4),
            ],
            goal="CNN accuracy >= MLP + 0.15",
            judge=lambda s: s["small CNN"] >= s["MLP"] + 0.15,
        ),
        "unet": Task(
            "unet",
            scenes,
            [
                Run(
                    "unet",
                    "U-Net (16, depth 2)",
                    lambda: models.unet(
                        4, 3, base_channels=16, depth=2, padding=1, batch_norm=True
                    ),
                    10,
                    3e-3,
                    16,
                    transform=flips,
                    metric="mean_iou",
                    final_lr=0.2,
                )
            ],
            goal="test mean IoU >= 0.85",
            judge=lambda s: s["U-Net (16, depth 2)"] >= 0.85,
        ),
    }


# ---------------------------------------------------------------------------- runner


def train_and_test(run: Run, splits: data.DatasetSplits, args) -> dict:
    """Train one model; pick the epoch with the best validation score; test it."""
    torch.manual_seed(args.seed)
    model = run.build()
    generator = torch.Generator().manual_seed(args.seed)
    train = DataLoader(
        splits.train, batch_size=run.batch_size, shuffle=True, generator=generator
    )
    val = DataLoader(splits.val, batch_size=256)
    test = DataLoader(splits.test, batch_size=256)
    epochs = 1 if args.quick else run.epochs
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=run.lr, weight_decay=run.weight_decay
    )
    # The lectures' exponential decay, lr_k = lr_0 * gamma**k, from lr_0 on the
    # first epoch to final_lr * lr_0 on the last.
    gamma = run.final_lr ** (1 / max(epochs - 1, 1))
    scheduler = ExponentialDecay(optimizer, gamma=gamma)
    metrics = (run.metric,)
    start, cpu_start = time.perf_counter(), time.process_time()
    with nn.use_impl(args.impl):
        history = fit(
            model,
            train,
            epochs=epochs,
            optimizer=optimizer,
            scheduler=scheduler,
            val_loader=val,
            metrics=metrics,
            early_stopping=EarlyStopping(f"val_{run.metric}", patience=epochs),
            transform=run.transform,
            device=args.device,
            progress=args.progress,
        )
        score = evaluate(model, test, metrics=metrics, device=args.device)[run.metric]
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start  # all threads: unaffected by other jobs
    return {
        "task": run.task,
        "model": run.model_name,
        "params": count(model),
        "metric": run.metric,
        "score": score,
        "wall_s": wall,
        "cpu_s": cpu,
        "images_per_s": sum(history.images_per_sec) / len(history.images_per_sec),
        "epochs": len(history),
    }


def verdict(met: bool, quick: bool) -> str:
    return "not judged (--quick)" if quick else ("MET" if met else "NOT MET")


def print_table(
    rows: list[dict], verdicts: dict[str, tuple[str, bool]], quick: bool
) -> None:
    header = (
        f"{'task':<8} {'model':<20} {'params':>8} {'score':>10} {'wall':>7} "
        f"{'cpu':>7} {'img/s':>7}  goal"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        goal, met = verdicts[row["task"]]
        score = f"{'IoU' if row['metric'] == 'mean_iou' else 'acc'} {row['score']:.4f}"
        print(
            f"{row['task']:<8} {row['model']:<20} {row['params']:>8,} {score:>10} "
            f"{row['wall_s']:>6.1f}s {row['cpu_s']:>6.1f}s "
            f"{row['images_per_s']:>7.0f}  "
            f"{verdict(met, quick)}: {goal}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny data")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--impl", choices=("native", "scratch"), default="native")
    parser.add_argument("--tasks", nargs="+", choices=list(tasks()), default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true", help="tqdm bars")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    rows, verdicts = [], {}
    for name, task in tasks().items():
        if args.tasks and name not in args.tasks:
            continue
        splits = task.splits(args.quick)
        results = [train_and_test(run, splits, args) for run in task.runs]
        rows += results
        met = task.judge({r["model"]: r["score"] for r in results})
        verdicts[name] = (task.goal, met)
        print(f"done: {name}", file=sys.stderr, flush=True)
    print_table(rows, verdicts, args.quick)
    return 0 if args.quick or all(met for _, met in verdicts.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
