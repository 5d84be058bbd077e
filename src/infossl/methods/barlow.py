"""Barlow Twins (Zbontar et al.): cross-correlation towards the identity."""

from __future__ import annotations

from infossl.losses import BarlowTwinsLoss
from infossl.methods.base import JointEmbeddingMethod


class BarlowTwins(JointEmbeddingMethod):
    name = "barlow"

    def __init__(self, projector: tuple[int, ...] = (2048, 2048, 2048), lambda_offdiag: float = 0.0051) -> None:
        super().__init__(BarlowTwinsLoss(lambda_offdiag), projector)
