"""BYOL (Grill et al.): predictor, EMA teacher, 2 - 2 cos."""

from __future__ import annotations

from infossl.losses import BYOLLoss
from infossl.methods.base import TeacherStudentMethod


class BYOL(TeacherStudentMethod):
    name = "byol"

    def __init__(
        self,
        projector: tuple[int, ...] = (4096, 256),
        predictor: tuple[int, ...] = (4096, 256),
        base_momentum: float = 0.99,
    ) -> None:
        super().__init__(BYOLLoss(), projector, predictor, base_momentum)
