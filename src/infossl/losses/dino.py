"""DINO's self-distillation objective: cross-entropy to a centred, sharpened teacher.

Caron et al., "Emerging Properties in Self-Supervised Vision Transformers" (ICCV 2021).

For student logits s and teacher logits t over P prototypes (one view each), with the
centre c (a running mean of the teacher's logits), student temperature tau_s and teacher
temperature tau_t:

    L = mean_n -sum_k softmax((t_n - c) / tau_t)_k * log_softmax(s_n / tau_s)_k

The host passes the teacher's logits without gradient (an EMA teacher). Centring (subtracting c) keeps one prototype from
dominating, sharpening (tau_t < tau_s) keeps the target from going uniform; together they
avoid collapse. After each step the method calls :meth:`DINOLoss.update_center` with all
teacher logits of the step: c <- m c + (1 - m) mean(t), the mean over the *global* batch
(all-reduced). The temperature in force is ``current_teacher_temperature``, which the
method sets from its warm-up schedule. Terms: ``cross_entropy`` and ``teacher_entropy``
(mean entropy of the target distributions; near log P means a uniform target, near 0 a
one-hot one).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

from infossl.distributed import world_size
from infossl.losses.base import PairLoss


class DINOLoss(PairLoss):
    """Cross-entropy between a student's and a centred, sharpened teacher's prototype scores (DINO).

    Args:
        prototypes: the number of prototypes P (the size of the centre).
        student_temperature: tau_s (DINO: 0.1).
        teacher_temperature: tau_t (DINO: 0.04 to 0.07; a host may warm it up through
            ``current_teacher_temperature``).
        center_momentum: m of the centre's running mean (DINO: 0.9).
    """

    #: no batch statistic in the loss itself (the centre is updated separately): one sample is a batch
    min_global_batch = 1

    def __init__(
        self,
        prototypes: int = 4096,
        student_temperature: float = 0.1,
        teacher_temperature: float = 0.04,
        center_momentum: float = 0.9,
    ) -> None:
        super().__init__()
        if prototypes < 1:
            raise ValueError(f"DINOLoss: prototypes must be >= 1, got {prototypes}")
        if student_temperature <= 0 or teacher_temperature <= 0:
            raise ValueError(f"DINOLoss: temperatures must be > 0, got {student_temperature} and {teacher_temperature}")
        if not 0.0 <= center_momentum < 1.0:
            raise ValueError(f"DINOLoss: center_momentum must be in [0, 1), got {center_momentum}")
        self.prototypes = prototypes
        self.student_temperature = student_temperature
        self.teacher_temperature = teacher_temperature
        self.current_teacher_temperature = teacher_temperature  # the host's warm-up sets it
        self.center_momentum = center_momentum
        self.register_buffer("center", torch.zeros(1, prototypes))

    def compute(self, student: Tensor, teacher: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        if student.shape[1] != self.prototypes:
            raise ValueError(f"DINOLoss: logits over {student.shape[1]} prototypes, configured for {self.prototypes}")
        target = torch.softmax((teacher - self.center.to(teacher.dtype)) / self.current_teacher_temperature, dim=1)
        log_student = torch.log_softmax(student / self.student_temperature, dim=1)
        cross_entropy = -(target * log_student).sum(dim=1).mean()
        teacher_entropy = -(target * torch.log(target.clamp_min(1e-12))).sum(dim=1).mean()
        return cross_entropy, {"cross_entropy": cross_entropy, "teacher_entropy": teacher_entropy}

    @torch.no_grad()
    def update_center(self, teacher: Tensor) -> None:
        """c <- m c + (1 - m) (mean of the teacher logits over the global batch)."""
        dtype = torch.promote_types(teacher.dtype, torch.float32)  # float32 at least, float64 stays
        total = teacher.detach().to(dtype).sum(dim=0, keepdim=True)
        count = torch.tensor(float(teacher.shape[0]), dtype=dtype, device=teacher.device)
        if world_size() > 1:
            dist.all_reduce(total)
            dist.all_reduce(count)
        self.center.mul_(self.center_momentum).add_((total / count).to(self.center.dtype), alpha=1 - self.center_momentum)
