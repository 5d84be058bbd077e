"""EMI (Chang et al.): explicit second-order mutual information between views."""

from __future__ import annotations

from infossl.losses import EMILoss
from infossl.methods.base import JointEmbeddingMethod


class EMI(JointEmbeddingMethod):
    name = "emi"

    def __init__(
        self,
        projector: tuple[int, ...] = (1024, 1024, 1024),
        eps: float = 1e-3,
        standardize: bool = True,
        invariance_weight: float = 0.0,
    ) -> None:
        super().__init__(EMILoss(eps, standardize, invariance_weight), projector)
