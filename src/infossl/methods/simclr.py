"""SimCLR (Chen et al.): NT-Xent over both views."""

from __future__ import annotations

from infossl.losses import InfoNCELoss
from infossl.methods.base import JointEmbeddingMethod


class SimCLR(JointEmbeddingMethod):
    name = "simclr"

    def __init__(self, projector: tuple[int, ...] = (2048, 256), temperature: float = 0.2) -> None:
        super().__init__(InfoNCELoss(temperature), projector)
