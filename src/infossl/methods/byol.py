"""BYOL: bootstrap your own latent."""

from __future__ import annotations

from collections.abc import Sequence

from infossl.losses import BYOLLoss
from infossl.methods.base import TeacherStudentMethod


class BYOL(TeacherStudentMethod):
    """BYOL, bootstrap your own latent (Grill et al., NeurIPS 2020).

    Grill et al., "Bootstrap Your Own Latent: A New Approach to Self-Supervised
    Learning" (NeurIPS 2020).

    An online network (backbone, projector, predictor) predicts the EMA teacher's
    projection of the other view; the loss (:class:`~infossl.losses.BYOLLoss`) is
    2 - 2 cos(prediction, target), over both pairings, averaged. No negatives.

    Args:
        projector: output sizes of the projector's layers.
        predictor: output sizes of the predictor's layers (the last must equal the
            projector's).
        base_momentum: EMA momentum of the teacher at the start; it rises to 1 along
            a cosine over training.
    """

    name = "byol"

    def __init__(
        self,
        projector: Sequence[int] = (4096, 256),
        predictor: Sequence[int] = (4096, 256),
        base_momentum: float = 0.99,
    ) -> None:
        super().__init__(BYOLLoss(), projector, predictor, base_momentum)
