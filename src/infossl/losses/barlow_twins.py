"""Barlow Twins: redundancy reduction through the cross-correlation matrix.

Zbontar, Jing, Misra, LeCun, Deny, "Barlow Twins: Self-Supervised Learning via
Redundancy Reduction" (ICML 2021).

Each dimension is standardized over the global batch (as a non-affine
BatchNorm1d: biased variance, eps 1e-5); c = Z1n^T Z2n / N is the D x D
cross-correlation matrix and

    L = sum_i (1 - c_ii)^2 + lambda * sum_{i != j} c_ij^2

with lambda fixed (not rescaled with D). Terms: ``on_diagonal`` and
``off_diagonal`` (unweighted sums).

Distributed: the embeddings are gathered with gradients before standardizing,
so statistics and gradients are global (a plain all-reduce of c, as some
implementations do, drops the gradient of the other processes' rows).
"""

from __future__ import annotations

import torch
from torch import Tensor

from infossl.distributed import gather_with_grad
from infossl.losses.base import PairLoss
from infossl.losses.functional import standardize

BATCHNORM_EPS = 1e-5


class BarlowTwinsLoss(PairLoss):
    """Cross-correlation objective of Barlow Twins.

    Args:
        lambda_offdiag: weight of the off-diagonal (redundancy) term.
    """

    def __init__(self, lambda_offdiag: float = 0.0051) -> None:
        super().__init__()
        self.lambda_offdiag = lambda_offdiag

    def compute(self, z1: Tensor, z2: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        z1 = standardize(gather_with_grad(z1), BATCHNORM_EPS)
        z2 = standardize(gather_with_grad(z2), BATCHNORM_EPS)
        c = z1.T @ z2 / z1.shape[0]
        diag = torch.diagonal(c)
        on_diagonal = (1 - diag).pow(2).sum()
        off_diagonal = c.pow(2).sum() - diag.pow(2).sum()
        loss = on_diagonal + self.lambda_offdiag * off_diagonal
        return loss, {"on_diagonal": on_diagonal, "off_diagonal": off_diagonal}
