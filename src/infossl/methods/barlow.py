"""Barlow Twins: cross-correlation towards the identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infossl.losses import BarlowTwinsLoss
from infossl.methods.base import JointEmbeddingMethod


class BarlowTwins(JointEmbeddingMethod):
    """Barlow Twins, redundancy reduction (Zbontar et al., ICML 2021).

    Zbontar, Jing, Misra, LeCun, Deny, "Barlow Twins: Self-Supervised Learning via
    Redundancy Reduction" (ICML 2021).

    One backbone and projector for both views; the loss
    (:class:`~infossl.losses.BarlowTwinsLoss`) drives the cross-correlation matrix of
    the standardized embeddings towards the identity: invariant dimensions, no
    redundancy between them.

    Args:
        projector: output sizes of the projector's layers.
        **loss_args: the settings of :class:`~infossl.losses.BarlowTwinsLoss`:
            ``lambda_offdiag``.
    """

    name = "barlow"

    def __init__(self, projector: Sequence[int] = (2048, 2048, 2048), **loss_args: Any) -> None:
        super().__init__(BarlowTwinsLoss(**loss_args), projector)
