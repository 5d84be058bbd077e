"""SimCLR: contrastive learning with NT-Xent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infossl.losses import InfoNCELoss
from infossl.methods.base import JointEmbeddingMethod


class SimCLR(JointEmbeddingMethod):
    """SimCLR, contrastive learning with the NT-Xent loss (Chen et al., ICML 2020).

    Chen, Kornblith, Norouzi, Hinton, "A Simple Framework for Contrastive Learning
    of Visual Representations" (ICML 2020).

    One backbone and projector for both views; the NT-Xent (InfoNCE) loss
    (:class:`~infossl.losses.InfoNCELoss`) pulls each image's two views together
    against the other 2N - 2 embeddings of the global batch as negatives.

    Args:
        projector: output sizes of the projector's layers.
        **loss_args: the settings of :class:`~infossl.losses.InfoNCELoss`: ``temperature``.
    """

    name = "simclr"

    def __init__(self, projector: Sequence[int] = (2048, 256), **loss_args: Any) -> None:
        super().__init__(InfoNCELoss(**loss_args), projector)
