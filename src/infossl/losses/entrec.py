"""EntRec (ER): entropy + reconstruction on the unit sphere.

Rodriguez-Galvez et al., "The Role of Entropy and Reconstruction in Multi-View
Self-Supervised Learning" (ICML 2023, arXiv 2307.10907); reference losses:
apple/ml-entropy-reconstruction.

Embeddings are L2-normalized. With concentration kappa:

- reconstruction: the von Mises-Fisher log-likelihood of one view given the
  other, up to a constant, R = kappa * mean_n <z1_n, z2_n>;
- entropy of each view from a von Mises-Fisher kernel density estimate over
  the global batch, log p(z_n) = logsumexp_m(kappa <z_n, z_m>) - log N (self term
  included; the normalizing constant log C_D(kappa) is dropped from the loss and
  from the logged terms, since it does not depend on the embedding);
  estimator "expectation" (plug-in): H = -sum_n w_n log p(z_n) with
  w = softmax_n(log p(z_n)) (not detached); estimator "average" (Joe's
  resubstitution): H = -mean_n log p(z_n);
- L = -(R + (H(z1) + H(z2)) / 2).

In a teacher-student host the target argument is detached, so only the online
view's entropy carries gradient. Terms: ``reconstruction`` (R) and ``entropy``
((H(z1) + H(z2)) / 2).

Distributed: each process scores its own rows against the gathered batch
(O(N_local N D) instead of O(N^2 D)); the log-densities are gathered so the
"expectation" weights are normalized over the global batch.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor

from infossl.distributed import gather_with_grad
from infossl.losses.base import PairLoss

Estimator = Literal["expectation", "average"]
ESTIMATORS = get_args(Estimator)


class EntRecLoss(PairLoss):
    """Entropy + reconstruction objective (ER).

    Args:
        kappa: concentration of the von Mises-Fisher kernel and likelihood.
        estimator: "expectation" (plug-in, default) or "average" (Joe's).
    """

    def __init__(self, kappa: float = 10.0, estimator: Estimator = "expectation") -> None:
        super().__init__()
        if kappa <= 0:
            raise ValueError(f"EntRecLoss: kappa must be > 0, got {kappa}")
        if estimator not in ESTIMATORS:
            raise ValueError(f"EntRecLoss: estimator must be one of {ESTIMATORS}, got {estimator!r}")
        self.kappa = kappa
        self.estimator = estimator

    def entropy(self, z: Tensor) -> Tensor:
        """Kernel-density entropy estimate of L2-normalized rows ``z`` (local rows,
        density over the global batch)."""
        everyone = gather_with_grad(z)
        log_density = torch.logsumexp(self.kappa * z @ everyone.T, dim=1) - math.log(everyone.shape[0])
        log_density = gather_with_grad(log_density)
        if self.estimator == "average":
            return -log_density.mean()
        weights = torch.softmax(log_density, dim=0)
        return -(weights * log_density).sum()

    def compute(self, z1: Tensor, z2: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        z1 = F.normalize(z1, dim=1)
        z2 = F.normalize(z2, dim=1)
        # local mean: averaging over processes (as DDP does) gives the global mean
        reconstruction = self.kappa * (z1 * z2).sum(dim=1).mean()
        entropy = 0.5 * (self.entropy(z1) + self.entropy(z2))
        loss = -(reconstruction + entropy)
        return loss, {"reconstruction": reconstruction, "entropy": entropy}
