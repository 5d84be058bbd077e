"""Linear probe: multinomial logistic regression on frozen, cached features.

Two solvers, both on features standardized with the training split's mean and
standard deviation:

- ``"lbfgs"`` (fast default): full-batch L-BFGS on the convex objective
  ``cross_entropy + weight_decay / 2 * ||W||^2``.
- ``"sgd"`` (the papers' protocol): mini-batch SGD with momentum, ``epochs``
  epochs (100 by default) and a cosine learning-rate schedule.

Hyper-parameters are never chosen on the test split: each candidate weight decay
is fitted on the training split minus a seeded held-out part (``holdout``), the
one with the best held-out accuracy is refitted on the whole training split and
only that classifier is scored on the test split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from infossl.eval.knn import topk_accuracy


@dataclass(frozen=True)
class ProbeConfig:
    """Settings of :func:`linear_probe`.

    Args:
        solver: "lbfgs" (full batch, fast) or "sgd" (100 epochs, cosine schedule).
        weight_decays: candidates, chosen on the held-out part of the training split.
        holdout: share of the training split held out for the choice.
        max_iter: L-BFGS iterations.
        epochs, lr, batch_size, momentum: SGD settings.
        seed: seed of the held-out split, the initialization and the SGD shuffling.
    """

    solver: str = "lbfgs"
    weight_decays: tuple[float, ...] = (1e-5, 1e-4, 1e-3, 1e-2)
    holdout: float = 0.1
    max_iter: int = 300
    epochs: int = 100
    lr: float = 0.1
    batch_size: int = 256
    momentum: float = 0.9
    seed: int = 0

    def __post_init__(self) -> None:
        if self.solver not in ("lbfgs", "sgd"):
            raise ValueError(f"probe solver must be 'lbfgs' or 'sgd', got {self.solver!r}")
        if not self.weight_decays:
            raise ValueError("probe weight_decays: give at least one candidate")
        if not 0.0 < self.holdout < 1.0:
            raise ValueError(f"probe holdout must be in (0, 1), got {self.holdout}")


def _fit_lbfgs(x: Tensor, y: Tensor, num_classes: int, weight_decay: float, config: ProbeConfig) -> torch.nn.Linear:
    linear = torch.nn.Linear(x.shape[1], num_classes).to(x.device)
    torch.nn.init.zeros_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    optimizer = torch.optim.LBFGS(
        linear.parameters(), lr=1.0, max_iter=config.max_iter, history_size=20, line_search_fn="strong_wolfe",
        tolerance_grad=1e-6, tolerance_change=1e-10,
    )

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(linear(x), y) + 0.5 * weight_decay * linear.weight.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return linear


def _fit_sgd(x: Tensor, y: Tensor, num_classes: int, weight_decay: float, config: ProbeConfig) -> torch.nn.Linear:
    generator = torch.Generator().manual_seed(config.seed)
    linear = torch.nn.Linear(x.shape[1], num_classes).to(x.device)
    with torch.no_grad():
        linear.weight.normal_(0.0, 0.01, generator=generator)
        linear.bias.zero_()
    optimizer = torch.optim.SGD(linear.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(x.shape[0] / config.batch_size)
    total = config.epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    with torch.enable_grad():
        for _ in range(config.epochs):
            order = torch.randperm(x.shape[0], generator=generator).to(x.device)
            for index in torch.split(order, config.batch_size):
                loss = F.cross_entropy(linear(x[index]), y[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
    return linear


def _fit(x: Tensor, y: Tensor, num_classes: int, weight_decay: float, config: ProbeConfig) -> torch.nn.Linear:
    fit = _fit_lbfgs if config.solver == "lbfgs" else _fit_sgd
    return fit(x, y, num_classes, weight_decay, config)


def _standardizer(x: Tensor) -> tuple[Tensor, Tensor]:
    return x.mean(dim=0), x.std(dim=0).clamp_min(1e-6)


def linear_probe(
    train_features: Tensor,
    train_labels: Tensor,
    test_features: Tensor,
    test_labels: Tensor,
    config: ProbeConfig = ProbeConfig(),  # noqa: B008 (frozen)
) -> dict[str, float | dict[str, float]]:
    """Top-1/top-5 test accuracy of a linear classifier on frozen features, the
    chosen weight decay and the held-out accuracy of every candidate."""
    if train_features.shape[0] != train_labels.shape[0] or test_features.shape[0] != test_labels.shape[0]:
        raise ValueError("linear probe: features and labels differ in length")
    if train_features.shape[1] != test_features.shape[1]:
        raise ValueError(
            f"linear probe: training features have dimension {train_features.shape[1]}, test features {test_features.shape[1]}"
        )
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    x, y = train_features.float(), train_labels.long()
    generator = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(x.shape[0], generator=generator)
    n_held = max(1, int(round(config.holdout * x.shape[0])))
    if x.shape[0] - n_held < 2:
        raise ValueError(f"linear probe: {x.shape[0]} training samples are too few to hold {n_held} out")
    fit_index, held_index = order[n_held:], order[:n_held]

    held_accuracy: dict[str, float] = {}
    if len(config.weight_decays) > 1:
        mean, std = _standardizer(x[fit_index])
        for wd in config.weight_decays:
            linear = _fit((x[fit_index] - mean) / std, y[fit_index], num_classes, wd, config)
            with torch.no_grad():
                scores = linear((x[held_index] - mean) / std)
            held_accuracy[f"{wd:g}"] = topk_accuracy(scores, y[held_index], 1)
        best = max(config.weight_decays, key=lambda wd: held_accuracy[f"{wd:g}"])
    else:
        best = config.weight_decays[0]

    mean, std = _standardizer(x)
    linear = _fit((x - mean) / std, y, num_classes, best, config)
    with torch.no_grad():
        scores = linear((test_features.float() - mean) / std)
    return {
        "top1": topk_accuracy(scores, test_labels, 1),
        "top5": topk_accuracy(scores, test_labels, 5),
        "weight_decay": best,
        "holdout_top1": held_accuracy,
    }

