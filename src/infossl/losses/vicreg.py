"""VICReg: variance-invariance-covariance regularization.

Bardes, Ponce, LeCun, "VICReg: Variance-Invariance-Covariance Regularization
for Self-Supervised Learning" (ICLR 2022).

    L = 25 * MSE(z1, z2) + 25 * (v(z1) + v(z2)) / 2 + 1 * (c(z1) + c(z2))

- invariance: mean squared error over samples and dimensions;
- variance v(z) = mean_d relu(1 - sqrt(Var(z_d) + 1e-4)), unbiased variance over
  the global batch; averaged over the two views, so it is counted once;
- covariance c(z) = sum of squared off-diagonal entries of the unbiased
  covariance, divided by D.

Terms (unweighted): ``invariance``, ``variance`` ((v1 + v2) / 2), ``covariance``
(c1 + c2).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from infossl.distributed import gather_with_grad
from infossl.losses.base import PairLoss

VARIANCE_EPS = 1e-4


def variance_hinge(z: Tensor) -> Tensor:
    """mean_d relu(1 - std_d), with std from the unbiased variance."""
    std = torch.sqrt(z.var(dim=0) + VARIANCE_EPS)
    return F.relu(1 - std).mean()


def covariance_penalty(z: Tensor) -> Tensor:
    """Sum of squared off-diagonal covariance entries, divided by D."""
    n, d = z.shape
    z = z - z.mean(dim=0)
    cov = z.T @ z / (n - 1)
    return (cov.pow(2).sum() - torch.diagonal(cov).pow(2).sum()) / d


class VICRegLoss(PairLoss):
    """VICReg objective.

    Args:
        sim_weight, var_weight, cov_weight: weights of the invariance,
            variance and covariance terms.
    """

    def __init__(self, sim_weight: float = 25.0, var_weight: float = 25.0, cov_weight: float = 1.0) -> None:
        super().__init__()
        self.sim_weight = sim_weight
        self.var_weight = var_weight
        self.cov_weight = cov_weight

    def compute(self, z1: Tensor, z2: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        z1, z2 = gather_with_grad(z1), gather_with_grad(z2)
        invariance = F.mse_loss(z1, z2)
        variance = 0.5 * (variance_hinge(z1) + variance_hinge(z2))
        covariance = covariance_penalty(z1) + covariance_penalty(z2)
        loss = self.sim_weight * invariance + self.var_weight * variance + self.cov_weight * covariance
        return loss, {"invariance": invariance, "variance": variance, "covariance": covariance}
