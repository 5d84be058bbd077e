"""Optimizers (SGD, AdamW, timm's LARS) and the warm-up + cosine schedule."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn


@dataclass
class OptimConfig:
    """Optimizer and learning-rate schedule.

    Args:
        name: "sgd", "adamw" or "lars" (timm's implementation).
        lr: peak learning rate (before batch scaling).
        scale_lr_by_batch: multiply ``lr`` by global batch / 256.
        weight_decay: applied to weights only; biases and norm parameters are
            excluded from decay (and, for LARS, from trust-ratio adaptation).
        momentum: SGD/LARS momentum (AdamW uses beta1 = momentum).
        warmup_epochs: linear warm-up length in epochs (fractions allowed); ignored
            when ``warmup_fraction`` is set (recipes that set it write null here).
        warmup_fraction: linear warm-up length as a fraction of the whole run (of its
            optimizer steps, or of the time budget), e.g. 0.03: the same schedule shape
            whatever the run's length. Takes precedence over ``warmup_epochs``.
        min_lr_ratio: the cosine decays to ``lr * min_lr_ratio``.
    """

    name: Literal["sgd", "adamw", "lars"] = "sgd"
    lr: float = 0.2
    scale_lr_by_batch: bool = False
    weight_decay: float = 5e-4
    momentum: float = 0.9
    warmup_epochs: float | None = 10.0
    warmup_fraction: float | None = None
    min_lr_ratio: float = 0.001

    def __post_init__(self) -> None:
        if self.warmup_fraction is not None and not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"model.optim.warmup_fraction must be in [0, 1), got {self.warmup_fraction}")
        if self.warmup_epochs is not None and self.warmup_epochs < 0:
            raise ValueError(f"model.optim.warmup_epochs must be >= 0, got {self.warmup_epochs}")


def parameter_groups(modules: list[nn.Module], weight_decay: float) -> list[dict]:
    """Weights (ndim > 1) decay; biases and norm parameters (ndim <= 1) do not."""
    decay, no_decay = [], []
    for module in modules:
        for p in module.parameters():
            if p.requires_grad:
                (decay if p.ndim > 1 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(config: OptimConfig, modules: list[nn.Module], lr: float) -> torch.optim.Optimizer:
    groups = parameter_groups(modules, config.weight_decay)
    if config.name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=config.momentum)
    if config.name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=(config.momentum, 0.999))
    if config.name == "lars":
        from timm.optim import Lars

        # timm's LARS adapts only groups with weight decay (always_adapt=False)
        return Lars(groups, lr=lr, momentum=config.momentum)
    raise ValueError(f"model.optim.name={config.name!r}; expected 'sgd', 'adamw' or 'lars'")


def warmup_cosine(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """Multiplier of the peak learning rate at ``step``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return cosine_decay((step - warmup_steps) / max(1, total_steps - warmup_steps), min_ratio)


def cosine_decay(progress: float, min_ratio: float) -> float:
    """Cosine from 1 at progress 0 to ``min_ratio`` at progress >= 1."""
    cosine = 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
    return min_ratio + (1 - min_ratio) * cosine
