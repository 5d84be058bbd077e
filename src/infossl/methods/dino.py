"""DINO: self-distillation with no labels, and the host it shares with EntRec's discrete variant."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from infossl.losses import DINOLoss, LossOutput, PairLoss
from infossl.methods.base import GLOBAL_VIEWS, Method, average_outputs, cosine_momentum, ema_update, encode_views, frozen_copy, teacher_pairs
from infossl.models.heads import DINOHead


class DiscreteDistillationMethod(Method):
    """Family of DINO-style methods: a student (backbone + :class:`~infossl.models.heads.DINOHead`)
    and an EMA teacher of both, scoring every view against P prototypes. The teacher sees the
    global views only; the loss is called once per (teacher global view i, student view j) pair
    with i != j, ``loss(student_j, teacher_i)``, and averaged over the pairs (with two views: the
    two cross pairs). The last layer stays frozen (its gradients dropped) for the first
    ``freeze_last_layer_fraction`` of training, as DINO does for stability. Abstract: the
    subclass chooses the loss and what it is given.
    """

    def __init__(
        self,
        loss: PairLoss,
        projector: Sequence[int],
        prototypes: int,
        base_momentum: float,
        freeze_last_layer_fraction: float,
        head_batch_norm: bool = False,
    ) -> None:
        super().__init__(loss, projector)
        if len(self.projector_dims) < 2:
            raise ValueError(f"{type(self).__name__}: projector lists the hidden sizes then the bottleneck, e.g. [2048, 2048, 256]")
        if prototypes < 1:
            raise ValueError(f"{type(self).__name__}: prototypes must be >= 1, got {prototypes}")
        if not 0.0 <= base_momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: base_momentum must be in [0, 1], got {base_momentum}")
        if not 0.0 <= freeze_last_layer_fraction <= 1.0:
            raise ValueError(f"{type(self).__name__}: freeze_last_layer_fraction must be in [0, 1], got {freeze_last_layer_fraction}")
        self.prototypes = prototypes
        self.base_momentum = base_momentum
        self.freeze_last_layer_fraction = freeze_last_layer_fraction
        self.head_batch_norm = head_batch_norm
        self.teacher_backbone: nn.Module = nn.Identity()
        self.teacher_head: nn.Module = nn.Identity()
        self._progress = 0.0

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "prototypes": self.prototypes,
            "base_momentum": self.base_momentum,
            "freeze_last_layer_fraction": self.freeze_last_layer_fraction,
            "head_batch_norm": self.head_batch_norm,
        }

    def build(self, backbone: nn.Module, feature_dim: int) -> None:
        self.projector = DINOHead(feature_dim, self.projector_dims[:-1], self.projector_dims[-1], self.prototypes, self.head_batch_norm)
        self.teacher_backbone = frozen_copy(backbone)
        self.teacher_head = frozen_copy(self.projector)

    def pair_loss(self, student: Tensor, teacher: Tensor) -> LossOutput:
        """The objective between one student view's and one teacher view's logits."""
        return self.loss(student, teacher)

    def after_teacher(self, teacher: Sequence[Tensor]) -> None:
        """Called with the teacher's logits of every global view once the loss is computed."""

    def training_loss(self, backbone: Callable[[Tensor], Tensor], views: Sequence[Tensor]) -> tuple[LossOutput, Tensor]:
        features = encode_views(backbone, views)
        student = [self.projector(f) for f in features]
        with torch.no_grad():
            teacher = [self.teacher_head(self.teacher_backbone(view)) for view in views[:GLOBAL_VIEWS]]
        outputs = [self.pair_loss(student[j], teacher[i]) for i, j in teacher_pairs(len(views))]
        self.after_teacher(teacher)
        return average_outputs(outputs), features[0].detach()

    def on_step_start(self, progress: float) -> None:
        self._progress = progress

    def on_after_backward(self) -> None:
        if self._progress < self.freeze_last_layer_fraction:
            for p in self.projector.last_layer.parameters():  # type: ignore[union-attr]
                p.grad = None

    def on_step_end(self, backbone: nn.Module, progress: float) -> dict[str, float]:
        tau = cosine_momentum(self.base_momentum, progress)
        ema_update([(backbone, self.teacher_backbone), (self.projector, self.teacher_head)], tau)
        return {"ema_momentum": tau}


def warmup_linear(start: float, end: float, fraction: float, progress: float) -> float:
    """``start`` rising linearly to ``end`` over the first ``fraction`` of training, then ``end``."""
    if fraction <= 0 or progress >= fraction:
        return end
    return start + (end - start) * progress / fraction


class DINO(DiscreteDistillationMethod):
    """DINO, self-distillation with no labels (Caron et al., ICCV 2021).

    Caron et al., "Emerging Properties in Self-Supervised Vision Transformers" (ICCV 2021).

    A student and an EMA teacher (backbone + DINO head: MLP to a bottleneck, L2
    normalization, weight-normalized prototype layer) score every view; the student's
    softmax at ``student_temperature`` learns the teacher's centred, sharpened softmax
    (:class:`~infossl.losses.DINOLoss`) over all (teacher global view, other view) pairs.
    The centre is an EMA (``center_momentum``) of the teacher's global-batch mean. Defaults
    follow the paper except where short CIFAR runs need less: 4,096 prototypes (the paper's
    65,536 is for ImageNet; solo-learn's CIFAR config uses 4,096), the teacher temperature
    0.04 (DINO's default; the CIFAR recipes set 0.07, reached by a linear warm-up from
    ``warmup_teacher_temperature`` over the first 30% of training, as DINO recommends for
    0.07), the last layer frozen for the first 1% (one epoch of DINO's 100), EMA momentum
    0.996 rising to 1. DINO also clips gradients at norm 3: the
    recipes set ``trainer.gradient_clip_val: 3.0``.

    Args:
        projector: the head's hidden sizes then its bottleneck (DINO: 2048, 2048, 256).
        prototypes: the number of prototypes P.
        base_momentum: EMA momentum of the teacher at the start; it rises to 1 along a cosine.
        warmup_teacher_temperature: the teacher temperature at the start of the warm-up.
        teacher_temperature_warmup_fraction: the share of training over which the teacher
            temperature rises linearly to ``teacher_temperature``.
        freeze_last_layer_fraction: the share of training during which the prototype layer
            gets no updates.
        head_batch_norm: batch norm after the head's hidden layers (DINO's ``use_bn_in_head``,
            off by default as in DINO).
        **loss_args: the settings of :class:`~infossl.losses.DINOLoss`: ``student_temperature``,
            ``teacher_temperature`` (after the warm-up) and ``center_momentum``.
    """

    name = "dino"

    def __init__(
        self,
        projector: Sequence[int] = (2048, 2048, 256),
        prototypes: int = 4096,
        base_momentum: float = 0.996,
        warmup_teacher_temperature: float = 0.04,
        teacher_temperature_warmup_fraction: float = 0.3,
        freeze_last_layer_fraction: float = 0.01,
        head_batch_norm: bool = False,
        **loss_args: Any,
    ) -> None:
        super().__init__(
            DINOLoss(prototypes=prototypes, **loss_args), projector, prototypes, base_momentum, freeze_last_layer_fraction, head_batch_norm
        )
        if warmup_teacher_temperature <= 0:
            raise ValueError(f"DINO: warmup_teacher_temperature must be > 0, got {warmup_teacher_temperature}")
        if not 0.0 <= teacher_temperature_warmup_fraction <= 1.0:
            raise ValueError(f"DINO: teacher_temperature_warmup_fraction must be in [0, 1], got {teacher_temperature_warmup_fraction}")
        self.warmup_teacher_temperature = warmup_teacher_temperature
        self.teacher_temperature_warmup_fraction = teacher_temperature_warmup_fraction

    def settings(self) -> dict[str, Any]:
        # the loss's "prototypes" is the method's own setting, the same key and value
        return {
            **super().settings(),
            "warmup_teacher_temperature": self.warmup_teacher_temperature,
            "teacher_temperature_warmup_fraction": self.teacher_temperature_warmup_fraction,
        }

    def on_step_start(self, progress: float) -> None:
        super().on_step_start(progress)
        loss: DINOLoss = self.loss  # type: ignore[assignment]
        loss.current_teacher_temperature = warmup_linear(
            self.warmup_teacher_temperature, loss.teacher_temperature, self.teacher_temperature_warmup_fraction, progress
        )

    def after_teacher(self, teacher: Sequence[Tensor]) -> None:
        self.loss.update_center(torch.cat(list(teacher)))  # type: ignore[operator]

    def on_step_end(self, backbone: nn.Module, progress: float) -> dict[str, float]:
        logs = super().on_step_end(backbone, progress)
        return {**logs, "teacher_temperature": self.loss.current_teacher_temperature}  # type: ignore[dict-item]
