"""What a method is: heads on top of a backbone plus an objective.

Three families cover the ten methods:

- :class:`JointEmbeddingMethod`: both views go through the same backbone and
  projector; the loss compares the two projections (IMSVD, EMI, EntRec,
  SimCLR, Barlow Twins, VICReg).
- :class:`TeacherStudentMethod`: an online backbone + projector + predictor and
  an EMA teacher (backbone + projector); the loss is called once per pairing,
  ``loss(prediction_a, teacher_projection_b.detach())``, and averaged (BYOL,
  EntRec in a BYOL host).
- :class:`~infossl.methods.dino.DiscreteDistillationMethod` (in ``dino.py``): DINO's
  student and EMA teacher over prototypes (DINO, EntRec in a DINO host).

More than two views (multi-crop): views 0 and 1 are global, the others local crops.
Joint-embedding methods average the loss over the unordered pairs (global view, any
other view), the global-global pair once; teacher-student methods feed only the global
views to the teacher and average over (teacher view i, student view j != i). Local crops
of one size go through the backbone in one batched call; with two views the backbone is
called once per view, as it always was.

A concrete method is a small subclass that sets :attr:`Method.name`, chooses the
head sizes and builds its loss from the loss's own arguments (``**loss_args``
forwarded to the loss class, so every loss setting is a configuration key of
the method without being declared twice). The Lightning module owns the
backbone, the optimizer and logging.
"""

from __future__ import annotations

import abc
import copy
import importlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from infossl.losses import LossOutput, PairLoss
from infossl.models.heads import mlp


class Method(nn.Module, abc.ABC):
    """Base class of the methods: heads built lazily once the backbone's feature
    size is known, and an objective. Abstract: use a concrete method such as
    :class:`~infossl.methods.IMSVD`."""

    def __init__(self, loss: PairLoss, projector: Sequence[int], projector_last_bias: bool = True) -> None:
        super().__init__()
        if len(projector) == 0:
            raise ValueError(f"{type(self).__name__}: projector must list at least one layer size")
        self.loss = loss
        self.projector_dims = tuple(int(d) for d in projector)
        self.projector_last_bias = projector_last_bias
        self.projector: nn.Module = nn.Identity()

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """Short name used in checkpoints and logs (a class attribute of each concrete method)."""

    # ------------------------------------------------------ rebuilding from a checkpoint
    def settings(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this method: its head sizes and
        its loss's settings. A subclass with other constructor arguments extends it."""
        return {"projector": list(self.projector_dims), **self.loss.settings()}

    def spec(self) -> dict[str, Any]:
        """``{"class_path", "init_args"}`` (jsonargparse's form): rebuild with :func:`build_method`."""
        cls = type(self)
        return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": self.settings()}

    # ------------------------------------------------------------------- training
    def build(self, backbone: nn.Module, feature_dim: int) -> None:
        """Create the heads for a backbone with ``feature_dim`` output features."""
        self.projector = mlp(feature_dim, self.projector_dims, last_bias=self.projector_last_bias)

    @abc.abstractmethod
    def training_loss(self, backbone: Callable[[Tensor], Tensor], views: Sequence[Tensor]) -> tuple[LossOutput, Tensor]:
        """The loss on two views, and the (detached) backbone features of the first."""

    def embed(self, features: Tensor) -> Tensor:
        """The embedding the objective sees, for backbone features (the projector's output)."""
        return self.projector(features)

    def on_step_start(self, progress: float) -> None:
        """Called before each training step's forward with training progress in [0, 1]
        (schedules that shape the loss, such as DINO's teacher temperature)."""

    def on_after_backward(self) -> None:
        """Called after the backward pass, before gradient clipping and the optimizer step."""

    def on_step_end(self, backbone: nn.Module, progress: float) -> dict[str, float]:
        """Called after each optimizer step with training progress in [0, 1]."""
        return {}

    def diagnostics(self, z1: Tensor, z2: Tensor) -> dict[str, float]:
        """Method-specific diagnostics of two views' embeddings (see :mod:`infossl.diagnostics`)."""
        return {}


#: views 0 and 1 are the global views; views 2, 3, ... are multi-crop's local crops
GLOBAL_VIEWS = 2


def encode_views(backbone: Callable[[Tensor], Tensor], views: Sequence[Tensor]) -> list[Tensor]:
    """Backbone features of every view: one call per global view (so two views are encoded
    exactly as without multi-crop), then one call per group of local crops of the same size,
    concatenated along the batch."""
    if len(views) < GLOBAL_VIEWS:
        raise ValueError(f"a method needs at least {GLOBAL_VIEWS} views, got {len(views)}")
    features: list[Tensor] = [backbone(view) for view in views[:GLOBAL_VIEWS]]
    groups: dict[tuple[int, ...], list[int]] = {}
    for index, view in enumerate(views[GLOBAL_VIEWS:], start=GLOBAL_VIEWS):
        groups.setdefault(tuple(view.shape), []).append(index)
    local: dict[int, Tensor] = {}
    for indices in groups.values():
        for index, chunk in zip(indices, backbone(torch.cat([views[i] for i in indices])).chunk(len(indices))):
            local[index] = chunk
    return features + [local[i] for i in range(GLOBAL_VIEWS, len(views))]


def joint_pairs(count: int) -> list[tuple[int, int]]:
    """The unordered pairs (global view, any other view), the global-global pair once:
    with two views the one pair (0, 1)."""
    return [(0, 1)] + [(g, j) for g in range(GLOBAL_VIEWS) for j in range(GLOBAL_VIEWS, count)]


def teacher_pairs(count: int) -> list[tuple[int, int]]:
    """(teacher's global view i, student's view j) for every j != i: with two views
    (1, 0) then (0, 1)."""
    return [(i, j) for j in range(count) for i in range(GLOBAL_VIEWS) if i != j]


def average_outputs(outputs: Sequence[LossOutput]) -> LossOutput:
    """The mean loss and the mean of each term over several calls of a loss."""
    if len(outputs) == 1:
        return outputs[0]
    loss = torch.stack([out.loss for out in outputs]).mean()
    return LossOutput(loss, {key: torch.stack([out.terms[key] for out in outputs]).mean() for key in outputs[0].terms})


class JointEmbeddingMethod(Method):
    """Family of methods whose views share the backbone and projector and whose loss
    compares two projections. With multi-crop (more than two views) the loss is averaged
    over the unordered pairs (global view, any other view), the global-global pair counted
    once (:func:`joint_pairs`)."""

    def training_loss(self, backbone: Callable[[Tensor], Tensor], views: Sequence[Tensor]) -> tuple[LossOutput, Tensor]:
        features = encode_views(backbone, views)
        z = [self.projector(f) for f in features]
        return average_outputs([self.loss(z[i], z[j]) for i, j in joint_pairs(len(views))]), features[0].detach()


def cosine_interpolate(start: float, end: float, progress: float) -> float:
    """``start`` at progress 0 moving to ``end`` at progress 1 along a half cosine."""
    return end + (start - end) * (math.cos(math.pi * min(max(progress, 0.0), 1.0)) + 1.0) / 2.0


def cosine_momentum(base: float, progress: float) -> float:
    """EMA momentum rising from ``base`` to 1 along a cosine (BYOL)."""
    return cosine_interpolate(base, 1.0, progress)


class TeacherStudentMethod(Method):
    """Family of methods with an online network (backbone, projector, predictor)
    and an EMA teacher (backbone, projector) whose momentum rises from
    ``base_momentum`` to 1 along a cosine (BYOL's schedule)."""

    def __init__(
        self,
        loss: PairLoss,
        projector: Sequence[int],
        predictor: Sequence[int],
        base_momentum: float = 0.99,
    ) -> None:
        super().__init__(loss, projector)
        if not 0.0 <= base_momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: base_momentum must be in [0, 1], got {base_momentum}")
        self.predictor_dims = tuple(int(d) for d in predictor)
        self.base_momentum = base_momentum
        self.predictor: nn.Module = nn.Identity()
        self.teacher_backbone: nn.Module = nn.Identity()
        self.teacher_projector: nn.Module = nn.Identity()

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "predictor": list(self.predictor_dims), "base_momentum": self.base_momentum}

    def build(self, backbone: nn.Module, feature_dim: int) -> None:
        super().build(backbone, feature_dim)
        self.predictor = mlp(self.projector_dims[-1], self.predictor_dims)
        self.teacher_backbone = frozen_copy(backbone)
        self.teacher_projector = frozen_copy(self.projector)

    def training_loss(self, backbone: Callable[[Tensor], Tensor], views: Sequence[Tensor]) -> tuple[LossOutput, Tensor]:
        features = encode_views(backbone, views)
        p = [self.predictor(self.projector(f)) for f in features]
        with torch.no_grad():  # the teacher sees the global views only
            t = [self.teacher_projector(self.teacher_backbone(view)) for view in views[:GLOBAL_VIEWS]]
        outputs = [self.loss(p[j], t[i].detach()) for i, j in teacher_pairs(len(views))]
        return average_outputs(outputs), features[0].detach()

    def on_step_end(self, backbone: nn.Module, progress: float) -> dict[str, float]:
        # stateless schedule: the momentum follows from progress alone, so a resumed run matches
        tau = cosine_momentum(self.base_momentum, progress)
        ema_update([(backbone, self.teacher_backbone), (self.projector, self.teacher_projector)], tau)
        return {"ema_momentum": tau}


def frozen_copy(module: nn.Module) -> nn.Module:
    """A copy of ``module`` whose parameters take no gradient: an EMA teacher's starting point."""
    teacher = copy.deepcopy(module)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


@torch.no_grad()
def ema_update(pairs: Sequence[tuple[nn.Module, nn.Module]], momentum: float) -> None:
    """teacher <- momentum * teacher + (1 - momentum) * online, parameter by parameter, for each
    (online, teacher) pair; buffers (batch-norm statistics) are copied."""
    for online, teacher in pairs:
        for p_online, p_teacher in zip(online.parameters(), teacher.parameters()):
            p_teacher.lerp_(p_online.detach(), 1.0 - momentum)
        for b_online, b_teacher in zip(online.buffers(), teacher.buffers()):
            b_teacher.copy_(b_online)


def build_method(spec: dict[str, Any]) -> Method:
    """The method described by :meth:`Method.spec` (class path and init args)."""
    module_name, _, class_name = str(spec.get("class_path", "")).rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as error:
        raise ValueError(f"unknown method class {spec.get('class_path')!r}: {error}") from error
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise ValueError(f"{spec['class_path']} is not an infossl method")
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in (spec.get("init_args") or {}).items()}
    return cls(**args)
