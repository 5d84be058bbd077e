"""EntRec (ER) in a SimCLR-style host: one encoder, no teacher."""

from __future__ import annotations

from infossl.losses import EntRecLoss
from infossl.methods.base import JointEmbeddingMethod


class EntRec(JointEmbeddingMethod):
    name = "entrec"

    def __init__(
        self,
        projector: tuple[int, ...] = (2048, 256),
        kappa: float = 10.0,
        estimator: str = "expectation",
    ) -> None:
        super().__init__(EntRecLoss(kappa, estimator), projector)
