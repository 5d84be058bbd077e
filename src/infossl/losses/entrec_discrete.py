"""EntRec (ER) with discrete support: entropy + reconstruction for probability vectors.

Rodriguez-Galvez et al., "The Role of Entropy and Reconstruction in Multi-View
Self-Supervised Learning" (ICML 2023, arXiv 2307.10907); reference losses:
apple/ml-entropy-reconstruction (``support="discrete"``).

Inputs are probability vectors over P prototypes (rows of a softmax, e.g. a DINO
head's output at a temperature). With p_bar the mean of the rows over the *global*
batch and eps = 1e-7:

- entropy, estimator "expectation" (plug-in, the default):
  H(p) = -sum_k p_bar_k log(p_bar_k + eps), in [0, log P];
- entropy, estimator "average" (the reference code's other option):
  H(p) = -mean_k log(p_bar_k + eps). It is >= log P (Jensen) and *grows* as the mass
  of p_bar concentrates on fewer prototypes, so maximizing it can reward collapse;
  it is offered for comparison with the reference code, not as a default;
- reconstruction (a cross-entropy, minimized):
  R = mean_n 1/2 [ -sum_k p1_nk log(p2_nk + eps) - sum_k p2_nk log(p1_nk + eps) ];
- L = R - (H(p1) + H(p2)) / 2.

In a teacher-student host the target argument is detached, so its entropy is
reported in the ``entropy`` term but carries no gradient. Terms: ``reconstruction``
(R) and ``entropy`` ((H(p1) + H(p2)) / 2).

Distributed: the batch mean p_bar is an all-reduced sum with gradients, so every
process sees the global p_bar and its gradient reaches every process's rows.
"""

from __future__ import annotations

from typing import get_args

import torch
from torch import Tensor

from infossl.distributed import all_reduce_sum_with_grad, world_size
from infossl.losses.base import PairLoss
from infossl.losses.entrec import ESTIMATORS, Estimator

#: the reference code's guard inside every log
EPS = 1e-7


def batch_mean_probabilities(p: Tensor) -> Tensor:
    """Mean of the rows of ``p`` over the global batch, with gradients to every process's rows."""
    return all_reduce_sum_with_grad(p.sum(dim=0)) / (p.shape[0] * world_size())


def discrete_entropy(p_bar: Tensor, estimator: Estimator = "expectation") -> Tensor:
    """Entropy of the mean distribution ``p_bar`` (see the module docstring)."""
    if estimator == "average":
        return -torch.log(p_bar + EPS).mean()
    return -(p_bar * torch.log(p_bar + EPS)).sum()


class EntRecDiscreteLoss(PairLoss):
    """Entropy + reconstruction objective (ER) for probability vectors (discrete support).

    Args:
        estimator: "expectation" (plug-in entropy of the batch-mean distribution, default)
            or "average" (the reference code's mean log-probability; rewards collapse when
            maximized, see the module docstring).
        check_probabilities: raise ValueError when a row is negative or does not sum to 1
            (within 1e-3): the loss is defined on probability vectors only.
    """

    def __init__(self, estimator: Estimator = "expectation", check_probabilities: bool = True) -> None:
        super().__init__()
        if estimator not in ESTIMATORS:
            raise ValueError(f"EntRecDiscreteLoss: estimator must be one of {get_args(Estimator)}, got {estimator!r}")
        self.estimator = estimator
        self.check_probabilities = check_probabilities

    def _check(self, p: Tensor, name: str) -> None:
        if not torch.isfinite(p).all():
            raise ValueError(f"EntRecDiscreteLoss: {name} has non-finite entries")
        sums = p.detach().sum(dim=1)
        if (p.detach() < 0).any() or not torch.allclose(sums, torch.ones_like(sums), atol=1e-3):
            raise ValueError(
                f"EntRecDiscreteLoss expects probability vectors (rows >= 0 summing to 1, e.g. a softmax); "
                f"{name}'s rows sum to {sums.min().item():.4g}..{sums.max().item():.4g}"
            )

    def compute(self, p1: Tensor, p2: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        if self.check_probabilities:
            self._check(p1, "p1")
            self._check(p2, "p2")
        # local mean: averaging over processes (as DDP does) gives the global mean
        cross = -(p1 * torch.log(p2 + EPS)).sum(dim=1) - (p2 * torch.log(p1 + EPS)).sum(dim=1)
        reconstruction = 0.5 * cross.mean()
        entropy = 0.5 * (
            discrete_entropy(batch_mean_probabilities(p1), self.estimator)
            + discrete_entropy(batch_mean_probabilities(p2), self.estimator)
        )
        return reconstruction - entropy, {"reconstruction": reconstruction, "entropy": entropy}
