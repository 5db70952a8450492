"""STUB: device selection and seeding (cuda -> mps -> cpu)."""

import torch


def best_device() -> torch.device:
    raise NotImplementedError


def seed_everything(seed: int = 0) -> None:
    raise NotImplementedError
