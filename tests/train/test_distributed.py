"""DDP with 2 CPU processes (gloo) takes exactly the steps of one process.

Each of the 2 processes trains on half of every global batch of 8; DDP averages
their gradients, and the average of two half-batch mean gradients is the mean
gradient of the whole batch. So after training, the parameters must equal those
of a single process trained on the same global batches in the same order.
"""

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from cnnlib.train import (
    cleanup_distributed,
    distributed_loader,
    fit,
    init_distributed,
    wrap_ddp,
)

WORLD_SIZE = 2
GLOBAL_BATCH = 8
EPOCHS = 2


def dataset(n: int) -> TensorDataset:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, 5, 5, generator=gen, dtype=torch.float64)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    return TensorDataset(x, y)


def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3),
        torch.nn.Tanh(),
        torch.nn.Flatten(),
        torch.nn.Linear(27, 2),
    ).double()


def train(net, loader, val_loader):
    opt = torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.9)
    return fit(
        net,
        loader,
        epochs=EPOCHS,
        optimizer=opt,
        val_loader=val_loader,
        device="cpu",
        progress=False,
    )


def worker(rank: int, port: int, out: str) -> None:
    """One DDP process, as torchrun would start it (environment variables)."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(WORLD_SIZE),
    )
    torch.set_num_threads(1)
    info = init_distributed(backend="gloo")
    assert info.world_size == WORLD_SIZE and info.rank == rank
    net = wrap_ddp(model(), torch.device("cpu"))
    loader = distributed_loader(dataset(48), GLOBAL_BATCH // WORLD_SIZE, seed=0)
    val = distributed_loader(dataset(20), 5, shuffle=False)
    history = train(net, loader, val)
    if info.is_main:
        torch.save(
            {
                "params": [p.detach() for p in net.module.parameters()],
                "history": history.as_dict(),
            },
            out,
        )
    cleanup_distributed()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(120)
def test_ddp_on_two_cpu_processes_matches_one_process(tmp_path):
    out = str(tmp_path / "ddp.pt")
    mp.spawn(worker, args=(free_port(), out), nprocs=WORLD_SIZE, join=True)
    ddp = torch.load(out, weights_only=True)

    # One process, same global batches: a DistributedSampler with one replica
    # draws the same per-epoch permutation as the two-process one.
    data = dataset(48)
    sampler = DistributedSampler(data, num_replicas=1, rank=0, shuffle=True, seed=0)
    single = model()
    history = train(
        single,
        DataLoader(data, batch_size=GLOBAL_BATCH, sampler=sampler),
        DataLoader(dataset(20), batch_size=10),
    )

    for got, expected in zip(ddp["params"], single.parameters(), strict=True):
        torch.testing.assert_close(got, expected.detach(), rtol=1e-9, atol=1e-12)
    # Metrics were summed over both processes: they equal the single-process ones.
    assert ddp["history"]["train_loss"] == pytest.approx(history.train_loss)
    assert ddp["history"]["val_loss"] == pytest.approx(history.val_loss)
    assert ddp["history"]["val_accuracy"] == pytest.approx(
        history.val_metrics["accuracy"]
    )


def test_without_torchrun_everything_is_single_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    info = init_distributed()
    assert (info.rank, info.world_size, info.is_main) == (0, 1, True)
    net = model()
    assert wrap_ddp(net, torch.device("cpu")) is net
    loader = distributed_loader(dataset(10), 4, seed=0)
    assert not isinstance(loader.sampler, DistributedSampler)
    assert sum(len(y) for _, y in loader) == 10
