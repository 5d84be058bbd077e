"""EntRec (ER) in a BYOL host: predictor and EMA teacher; only the online
view's entropy carries gradient."""

from __future__ import annotations

from infossl.losses import EntRecLoss
from infossl.methods.base import TeacherStudentMethod


class EntRecBYOL(TeacherStudentMethod):
    name = "entrec_byol"

    def __init__(
        self,
        projector: tuple[int, ...] = (4096, 256),
        predictor: tuple[int, ...] = (4096, 256),
        base_momentum: float = 0.99,
        kappa: float = 10.0,
        estimator: str = "expectation",
    ) -> None:
        super().__init__(EntRecLoss(kappa, estimator), projector, predictor, base_momentum)
