"""VICReg: variance, invariance, covariance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infossl.losses import VICRegLoss
from infossl.methods.base import JointEmbeddingMethod


class VICReg(JointEmbeddingMethod):
    """VICReg, variance-invariance-covariance regularization (Bardes et al., ICLR 2022).

    Bardes, Ponce, LeCun, "VICReg: Variance-Invariance-Covariance Regularization for
    Self-Supervised Learning" (ICLR 2022).

    One backbone and projector for both views; the loss
    (:class:`~infossl.losses.VICRegLoss`) combines an invariance term (MSE between
    the views), a variance hinge that keeps every dimension's standard deviation
    near 1, and a covariance penalty that decorrelates dimensions.

    Args:
        projector: output sizes of the projector's layers.
        **loss_args: the settings of :class:`~infossl.losses.VICRegLoss`:
            ``sim_weight``, ``var_weight`` and ``cov_weight``.
    """

    name = "vicreg"

    def __init__(self, projector: Sequence[int] = (2048, 2048, 2048), **loss_args: Any) -> None:
        super().__init__(VICRegLoss(**loss_args), projector)
