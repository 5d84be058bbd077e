"""VICReg (Bardes et al.): variance, invariance, covariance."""

from __future__ import annotations

from infossl.losses import VICRegLoss
from infossl.methods.base import JointEmbeddingMethod


class VICReg(JointEmbeddingMethod):
    name = "vicreg"

    def __init__(
        self,
        projector: tuple[int, ...] = (2048, 2048, 2048),
        sim_weight: float = 25.0,
        var_weight: float = 25.0,
        cov_weight: float = 1.0,
    ) -> None:
        super().__init__(VICRegLoss(sim_weight, var_weight, cov_weight), projector)
