"""EntRec (ER) with discrete support in a DINO host."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from infossl.losses import EntRecDiscreteLoss, LossOutput
from infossl.methods.dino import DiscreteDistillationMethod


class EntRecDINO(DiscreteDistillationMethod):
    """EntRec (ER) with discrete support in a DINO host (Rodriguez-Galvez et al., ICML 2023).

    Rodriguez-Galvez et al., "The Role of Entropy and Reconstruction in Multi-View
    Self-Supervised Learning" (ICML 2023); reference losses apple/ml-entropy-reconstruction.

    DINO's student, EMA teacher, head and view pairs (see :class:`~infossl.methods.DINO`),
    with :class:`~infossl.losses.EntRecDiscreteLoss` in place of DINO's centring and
    sharpening: student and teacher logits both go through a softmax at
    ``temperature`` (the student temperature: the paper replaces the teacher's centring and
    sharpening, and no separate teacher temperature is given), then the loss maximizes the
    entropy of the batch-mean student distribution and minimizes the cross-entropy
    (reconstruction) between student and teacher. The teacher's distribution is detached,
    so its entropy is reported, not optimized.

    ``teacher_temperature`` (not in the paper) gives the teacher its own, sharper softmax, as
    DINO's sharpening does: from a near-uniform start, where both terms are log P and the
    loss is 0, a sharper target breaks the symmetry sooner. ``None`` (the default) is the
    paper's single temperature.

    Args:
        projector: the head's hidden sizes then its bottleneck (DINO: 2048, 2048, 256).
        prototypes: the number of prototypes P.
        temperature: softmax temperature of student and teacher logits (DINO's student 0.1).
        teacher_temperature: the teacher's own softmax temperature; ``None``: ``temperature``.
        base_momentum: EMA momentum of the teacher at the start; it rises to 1 along a cosine.
        freeze_last_layer_fraction: the share of training during which the prototype layer
            gets no updates.
        head_batch_norm: batch norm after the head's hidden layers (DINO's ``use_bn_in_head``).
        **loss_args: the settings of :class:`~infossl.losses.EntRecDiscreteLoss`: ``estimator``.
    """

    name = "entrec_dino"

    def __init__(
        self,
        projector: Sequence[int] = (2048, 2048, 256),
        prototypes: int = 4096,
        temperature: float = 0.1,
        base_momentum: float = 0.996,
        freeze_last_layer_fraction: float = 0.01,
        head_batch_norm: bool = False,
        teacher_temperature: float | None = None,
        **loss_args: Any,
    ) -> None:
        super().__init__(EntRecDiscreteLoss(**loss_args), projector, prototypes, base_momentum, freeze_last_layer_fraction, head_batch_norm)
        for name, value in (("temperature", temperature), ("teacher_temperature", teacher_temperature)):
            if value is not None and value <= 0:
                raise ValueError(f"EntRecDINO: {name} must be > 0, got {value}")
        self.temperature = temperature
        self.teacher_temperature = teacher_temperature

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "temperature": self.temperature, "teacher_temperature": self.teacher_temperature}

    def pair_loss(self, student: Tensor, teacher: Tensor) -> LossOutput:
        # the softmax in float32 at least, whatever the autocast dtype (the loss upcasts too)
        dtype = torch.promote_types(student.dtype, torch.float32)
        with torch.autocast(student.device.type, enabled=False):
            p_student = torch.softmax(student.to(dtype) / self.temperature, dim=1)
            p_teacher = torch.softmax(teacher.detach().to(dtype) / (self.teacher_temperature or self.temperature), dim=1)
        return self.loss(p_student, p_teacher)
