"""EntRec (ER) in a BYOL host."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infossl.losses import EntRecLoss
from infossl.methods.base import TeacherStudentMethod


class EntRecBYOL(TeacherStudentMethod):
    """EntRec (ER), entropy and reconstruction, in a BYOL host (Rodriguez-Galvez et al., ICML 2023).

    Rodriguez-Galvez et al., "The Role of Entropy and Reconstruction in Multi-View
    Self-Supervised Learning" (ICML 2023); reference losses apple/ml-entropy-reconstruction.

    BYOL's online network (backbone, projector, predictor) and EMA teacher, with
    :class:`~infossl.losses.EntRecLoss` between the online prediction of one view
    and the teacher's projection of the other (both pairings, averaged). The
    teacher's target is detached, so only the online view's entropy carries gradient.

    Args:
        projector: output sizes of the projector's layers.
        predictor: output sizes of the predictor's layers (the last must equal the
            projector's for the loss to compare them).
        base_momentum: EMA momentum of the teacher at the start; it rises to 1 along
            a cosine over training.
        **loss_args: the settings of :class:`~infossl.losses.EntRecLoss`: ``kappa``
            and ``estimator``.
    """

    name = "entrec_byol"

    def __init__(
        self,
        projector: Sequence[int] = (4096, 256),
        predictor: Sequence[int] = (4096, 256),
        base_momentum: float = 0.99,
        **loss_args: Any,
    ) -> None:
        super().__init__(EntRecLoss(**loss_args), projector, predictor, base_momentum)
