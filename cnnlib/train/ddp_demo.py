"""Data-parallel training demo: LeNet-5 on the procedural shapes, one process per GPU.

On a lab machine with 4 GPUs (one process per GPU, NCCL)::

    torchrun --standalone --nproc_per_node=4 -m cnnlib.train.ddp_demo --epochs 10

On a CPU-only machine, 2 processes talking through gloo::

    torchrun --standalone --nproc_per_node=2 -m cnnlib.train.ddp_demo --epochs 2

As a single process, with no torchrun at all::

    python -m cnnlib.train.ddp_demo --epochs 2

``--batch-size`` is per process: with 4 processes and 64 each, every optimizer
step sees a global batch of 256. Each process renders the same dataset from the
same seed, ``distributed_loader`` gives each its shard, and only rank 0 prints
and saves ``--checkpoint``.
"""

from __future__ import annotations

import argparse

import torch

from cnnlib.train.distributed import (
    cleanup_distributed,
    distributed_loader,
    init_distributed,
    wrap_ddp,
)
from cnnlib.train.history import History
from cnnlib.train.loop import fit


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m cnnlib.train.ddp_demo",
        description="Train LeNet-5 on procedural shapes with DistributedDataParallel.",
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64, help="per process")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--images", type=int, default=6000, help="dataset size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--amp", choices=("bf16", "fp16"), default=None)
    parser.add_argument("--impl", choices=("native", "scratch"), default="native")
    parser.add_argument("--checkpoint", default=None, help="file to save (rank 0)")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> History:
    """Run the demo with command-line arguments ``argv``; return rank's history."""
    from cnnlib import models, nn, seed_everything  # late: `cnnlib` imports us
    from cnnlib.data.shapes import shapes_splits

    args = parse_args(argv)
    info = init_distributed()
    try:
        # Repeatable runs. The data is identical on every process (seeded
        # generator), and DDP copies rank 0's initial weights to the others.
        seed_everything(args.seed)
        splits = shapes_splits(n=args.images, size=32, seed=args.seed)
        model = wrap_ddp(models.lenet5(num_classes=10, in_channels=3), info.device)
        train = distributed_loader(splits.train, args.batch_size, seed=args.seed)
        val = distributed_loader(splits.val, 256, shuffle=False)
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
        with nn.use_impl(args.impl):
            history = fit(
                model,
                train,
                epochs=args.epochs,
                optimizer=optimizer,
                val_loader=val,
                device=info.device,
                amp=args.amp,
                progress=not args.no_progress,
                checkpoint=args.checkpoint,
            )
        if info.is_main:
            last = history.epoch(-1)
            print(
                f"{info.world_size} process(es) on {info.device.type}: "
                f"val accuracy {last['val_accuracy']:.3f}, "
                f"{last['images_per_sec']:.0f} images/s"
            )
        return history
    finally:
        cleanup_distributed()


if __name__ == "__main__":
    main()
