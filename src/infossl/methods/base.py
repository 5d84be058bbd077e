"""What a method is: heads on top of a backbone plus an objective.

Two families cover the eight methods:

- :class:`JointEmbeddingMethod`: both views go through the same backbone and
  projector; the loss compares the two projections (IMSVD, EMI, EntRec,
  SimCLR, Barlow Twins, VICReg).
- :class:`TeacherStudentMethod`: an online backbone + projector + predictor and
  an EMA teacher (backbone + projector); the loss is called once per pairing,
  ``loss(prediction_a, teacher_projection_b.detach())``, and averaged (BYOL,
  EntRec in a BYOL host).

Subclasses only choose the head sizes and the loss; the Lightning module owns
the backbone, the optimizer and logging.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from infossl.losses import LossOutput, PairLoss
from infossl.models.heads import mlp


class Method(nn.Module):
    """Base class: heads built lazily once the backbone's feature size is known."""

    #: short name used in checkpoints and logs
    name: str = "method"

    def __new__(cls, *args, **kwargs):
        # record the constructor arguments, so a checkpoint can rebuild the method
        self = super().__new__(cls)
        try:
            bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
        except TypeError:  # wrong arguments: let __init__ raise its own error
            bound = None
        if bound is not None:
            bound.apply_defaults()
            self.__dict__["_init_args"] = {k: v for k, v in list(bound.arguments.items())[1:] if k not in ("args", "kwargs")}
        return self

    def spec(self) -> dict:
        """``{"class_path", "init_args"}`` with plain values: rebuild with :func:`build_method`."""
        def plain(value):
            return list(value) if isinstance(value, tuple) else value

        cls = type(self)
        init_args = self.__dict__.get("_init_args", {})
        return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": {k: plain(v) for k, v in init_args.items()}}

    def __init__(self, loss: PairLoss, projector: Sequence[int], projector_last_bias: bool = True) -> None:
        super().__init__()
        if len(projector) == 0:
            raise ValueError(f"{type(self).__name__}: projector must list at least one layer size")
        self.loss = loss
        self.projector_dims = tuple(int(d) for d in projector)
        self.projector_last_bias = projector_last_bias
        self.projector: nn.Module = nn.Identity()

    def build(self, backbone: nn.Module, feature_dim: int) -> None:
        """Create the heads for a backbone with ``feature_dim`` output features."""
        self.projector = mlp(feature_dim, self.projector_dims, last_bias=self.projector_last_bias)

    def training_loss(self, backbone: Callable[[Tensor], Tensor], views: Sequence[Tensor]) -> tuple[LossOutput, Tensor]:
        """The loss on two views, and the (detached) backbone features of the first."""
        raise NotImplementedError

    def embed(self, features: Tensor) -> Tensor:
        """The embedding the objective sees, for backbone features (the projector's output)."""
        return self.projector(features)

    def on_step_end(self, backbone: nn.Module, progress: float) -> dict[str, float]:
        """Called after each optimizer step with training progress in [0, 1]."""
        return {}

    def diagnostics(self, z1: Tensor, z2: Tensor) -> dict[str, float]:
        """Method-specific diagnostics of two views' embeddings (see :mod:`infossl.eval.diagnostics`)."""
        return {}


class JointEmbeddingMethod(Method):
    def training_loss(self, backbone: Callable[[Tensor], Tensor], views: Sequence[Tensor]) -> tuple[LossOutput, Tensor]:
        f1, f2 = backbone(views[0]), backbone(views[1])
        return self.loss(self.projector(f1), self.projector(f2)), f1.detach()


def cosine_momentum(base: float, progress: float) -> float:
    """EMA momentum rising from ``base`` to 1 along a cosine (BYOL)."""
    return 1.0 - (1.0 - base) * (math.cos(math.pi * min(max(progress, 0.0), 1.0)) + 1.0) / 2.0


class TeacherStudentMethod(Method):
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

    def build(self, backbone: nn.Module, feature_dim: int) -> None:
        super().build(backbone, feature_dim)
        self.predictor = mlp(self.projector_dims[-1], self.predictor_dims)
        self.teacher_backbone = copy.deepcopy(backbone)
        self.teacher_projector = copy.deepcopy(self.projector)
        for p in [*self.teacher_backbone.parameters(), *self.teacher_projector.parameters()]:
            p.requires_grad_(False)

    def training_loss(self, backbone: Callable[[Tensor], Tensor], views: Sequence[Tensor]) -> tuple[LossOutput, Tensor]:
        f1, f2 = backbone(views[0]), backbone(views[1])
        p1, p2 = self.predictor(self.projector(f1)), self.predictor(self.projector(f2))
        with torch.no_grad():
            t1 = self.teacher_projector(self.teacher_backbone(views[0]))
            t2 = self.teacher_projector(self.teacher_backbone(views[1]))
        a, b = self.loss(p1, t2.detach()), self.loss(p2, t1.detach())
        terms = {key: (a.terms[key] + b.terms[key]) / 2 for key in a.terms}
        return LossOutput((a.loss + b.loss) / 2, terms), f1.detach()

    @torch.no_grad()
    def on_step_end(self, backbone: nn.Module, progress: float) -> dict[str, float]:
        # stateless schedule: the momentum follows from progress alone, so a resumed run matches
        tau = cosine_momentum(self.base_momentum, progress)
        for online, teacher in ((backbone, self.teacher_backbone), (self.projector, self.teacher_projector)):
            for p_online, p_teacher in zip(online.parameters(), teacher.parameters()):
                p_teacher.lerp_(p_online.detach(), 1.0 - tau)
            for b_online, b_teacher in zip(online.buffers(), teacher.buffers()):
                b_teacher.copy_(b_online)
        return {"ema_momentum": tau}


def build_method(spec: dict) -> Method:
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
