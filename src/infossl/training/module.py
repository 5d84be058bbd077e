"""The Lightning module shared by every method: backbone + method + optimizer."""

from __future__ import annotations

import functools
import time
from typing import Any

import lightning as L
import torch
from torch import Tensor

from infossl.encoder import CHECKPOINT_FORMAT_VERSION, checkpoint_info
from infossl.errors import InputError
from infossl.methods import Method
from infossl.models.backbones import BackboneSpec, build_backbone
from infossl.training.optim import (
    OptimConfig,
    build_optimizer,
    cosine_decay,
    warmup_cosine,
)
from infossl.training.reliability import NonFiniteLossError, check_finite_weights


class SSLModule(L.LightningModule):
    """Self-supervised pretraining of ``backbone`` with ``method``.

    Args:
        method: the method (heads and objective), e.g. ``IMSVD(num_states=32)``.
        backbone: backbone to build (see :class:`BackboneSpec`).
        optim: optimizer and learning-rate schedule.
        batch_size: the global batch size (all processes, one optimizer step before
            gradient accumulation), needed when ``optim.scale_lr_by_batch`` scales the
            learning rate by it / 256; it must equal the data module's.
            ``infossl pretrain`` passes ``data.batch_size``.
        channels_last: use the channels-last memory format for the backbone.
        compile: ``torch.compile`` the backbone.
        time_budget_min: train for this many minutes of training time (summed
            over resumed sessions) and stop; the learning-rate schedule and the
            EMA momentum then follow elapsed time instead of steps (warm-up stays
            in steps unless ``optim.warmup_fraction`` is set). Under DDP the time is
            rank 0's, shared with every rank at every step, so all ranks apply the
            same learning rate and momentum and stop at the same step.
            ``trainer.max_epochs`` / ``max_steps`` still cap the run.
    """

    def __init__(
        self,
        method: Method,
        backbone: BackboneSpec = BackboneSpec(),  # noqa: B008 (frozen dataclass)
        optim: OptimConfig = OptimConfig(),  # noqa: B008 (never mutated)
        batch_size: int | None = None,
        channels_last: bool = False,
        compile: bool = False,
        time_budget_min: float | None = None,
    ) -> None:
        super().__init__()
        self.method = method
        self.backbone_spec = backbone
        self.optim_config = optim
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"SSLModule: batch_size must be >= 1, got {batch_size}")
        if batch_size is None and optim.scale_lr_by_batch:
            raise ValueError("SSLModule: optim.scale_lr_by_batch needs the global batch size: pass batch_size")
        self.batch_size = batch_size
        self.channels_last = channels_last
        if time_budget_min is not None and time_budget_min <= 0:
            raise ValueError(f"model.time_budget_min must be > 0, got {time_budget_min}")
        self.time_budget_min = time_budget_min
        self.backbone, self.feature_dim = build_backbone(backbone)
        self.method.build(self.backbone, self.feature_dim)
        if channels_last:
            self.backbone = self.backbone.to(memory_format=torch.channels_last)
        self._compiled = torch.compile(self.backbone) if compile else None
        self._last_batch_end: float | None = None
        self._epoch_start = time.perf_counter()
        self.train_seconds = 0.0  # training wall time over all (resumed) sessions of the run

    def encode(self, images: Tensor) -> Tensor:
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        backbone = self._compiled if self._compiled is not None else self.backbone
        return backbone(images)

    # ---------------------------------------------------------------- training
    def training_step(self, batch: tuple[list[Tensor], Tensor], batch_idx: int) -> dict[str, Tensor]:
        views, labels = batch
        self.method.on_step_start(self.progress(self.global_step))
        out, features = self.method.training_loss(self.encode, views)
        self._check_finite(out.loss, out.terms)
        batch_size = views[0].shape[0]
        self.log("train/loss", out.loss, prog_bar=True, batch_size=batch_size)
        self.log_dict({f"train/{k}": v for k, v in out.terms.items()}, prog_bar=True, batch_size=batch_size)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"], batch_size=batch_size)
        return {"loss": out.loss, "features": features, "labels": labels}

    def on_after_backward(self) -> None:
        self.method.on_after_backward()

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        super().optimizer_step(*args, **kwargs)
        # right after the update (EMA teacher), before callbacks such as checkpointing
        # run, so a checkpoint taken at this step already contains it; global_step
        # now counts the step just taken (step k of K has progress k / K, from 0)
        progress = self.progress(self.trainer.global_step - 1)
        for key, value in self.method.on_step_end(self.backbone, progress).items():
            self.log(f"train/{key}", value)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        # throughput over whole steps: loading, augmentation, forward, backward, update
        now = time.perf_counter()
        if self._last_batch_end is not None:
            images = batch[1].shape[0] * self.trainer.world_size
            self.log("train/images_per_s", images / (now - self._last_batch_end), prog_bar=True)
            self.train_seconds += now - self._last_batch_end
        else:  # the epoch's first step: count it from the epoch start (excluded from images/s)
            self.train_seconds += now - self._epoch_start
        self._last_batch_end = now
        if self.time_budget_min is not None:
            self.train_seconds = self._shared_clock(self.train_seconds)
            out_of_time = self.train_seconds >= 60 * self.time_budget_min
            if self.trainer.strategy.reduce_boolean_decision(out_of_time, all=False):
                self.trainer.should_stop = True
        self.log("time/train_s", self.train_seconds)

    def _shared_clock(self, seconds: float) -> float:
        """Rank 0's training time, on every rank: with a time budget the elapsed time drives the
        learning rate, BYOL's EMA momentum and the stop, and per-rank clocks would give ranks
        different learning rates, drifting teachers and a rank left waiting in a collective."""
        if self.trainer.world_size == 1:
            return seconds
        return float(self.trainer.strategy.broadcast(seconds, src=0))

    def progress(self, step: int) -> float:
        """Training progress in [0, 1] after ``step`` optimizer steps: by steps, or by
        training time with a time budget."""
        if self.time_budget_min is not None:
            return min(1.0, self.train_seconds / (60 * self.time_budget_min))
        return step / self.total_steps()

    def on_train_epoch_start(self) -> None:
        self._last_batch_end = None  # do not count the epoch boundary as a step
        self._epoch_start = time.perf_counter()

    def _check_finite(self, loss: Tensor, terms: dict[str, Tensor]) -> None:
        if torch.isfinite(loss):
            return
        bad = [k for k, v in terms.items() if not torch.isfinite(v)] or ["loss"]
        raise NonFiniteLossError(
            f"non-finite loss at step {self.global_step} (epoch {self.current_epoch}): "
            f"terms {', '.join(bad)} = {', '.join(str(terms.get(k, loss).item()) for k in bad)}; "
            f"the last good checkpoint is kept. Lower model.optim.lr or check the data."
        )

    # -------------------------------------------------------------- validation
    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> dict[str, Tensor]:
        images, labels = batch
        return {"features": self.encode(images).float(), "labels": labels}

    # ------------------------------------------------------------ optimization
    def global_batch_size(self) -> int | None:
        """Images per optimizer step over all processes (``batch_size`` x gradient accumulation)."""
        return None if self.batch_size is None else self.batch_size * self.trainer.accumulate_grad_batches

    def steps_per_epoch(self) -> int:
        """Optimizer steps per epoch, from the data module (it knows the data set's size)."""
        datamodule = self.trainer.datamodule
        if datamodule is None or not hasattr(datamodule, "steps_per_epoch"):
            raise InputError(
                "SSLModule's learning-rate schedule needs the data module's steps_per_epoch(): "
                "train with an infossl SSLDataModule (trainer.fit(module, datamodule=...))"
            )
        data_batch = getattr(datamodule, "batch_size", self.batch_size)
        if self.batch_size is not None and data_batch != self.batch_size:
            raise InputError(
                f"SSLModule(batch_size={self.batch_size}) differs from the data module's batch_size={data_batch}: "
                "the learning rate would be scaled for the wrong batch; pass the same global batch size to both"
            )
        return max(1, datamodule.steps_per_epoch() // self.trainer.accumulate_grad_batches)

    def total_steps(self) -> int:
        """Optimizer steps of the whole run, from the data module's size.

        ``trainer.estimated_stepping_batches`` would build the train loader
        before a checkpoint's loader state is restored, and Lightning would
        then resume mid-epoch from the start of the epoch's data.
        """
        trainer = self.trainer
        per_epoch = self.steps_per_epoch()
        by_epochs = per_epoch * trainer.max_epochs if trainer.max_epochs not in (None, -1) else None
        by_steps = trainer.max_steps if trainer.max_steps != -1 else None
        candidates = [n for n in (by_epochs, by_steps) if n is not None]
        if not candidates:
            raise InputError("set trainer.max_epochs or trainer.max_steps: the learning-rate schedule needs a length")
        return max(1, min(candidates))

    def configure_optimizers(self) -> dict[str, Any]:
        config = self.optim_config
        lr = config.lr * (self.global_batch_size() / 256 if config.scale_lr_by_batch else 1.0)  # type: ignore[operator]
        optimizer = build_optimizer(config, [self.backbone, self.method], lr)
        epoch_warmup = int(round((config.warmup_epochs or 0.0) * self.steps_per_epoch()))
        if self.time_budget_min is not None:  # cosine over the time budget
            schedule = functools.partial(self._time_schedule, warmup_steps=epoch_warmup, config=config)
        else:
            total = self.total_steps()
            warmup = epoch_warmup if config.warmup_fraction is None else int(round(config.warmup_fraction * total))
            schedule = functools.partial(warmup_cosine, warmup_steps=warmup, total_steps=total, min_ratio=config.min_lr_ratio)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def _time_schedule(self, step: int, warmup_steps: int, config: OptimConfig) -> float:
        progress = self.progress(step)
        fraction = config.warmup_fraction
        if fraction is not None:  # warm-up over the first part of the budget, then cosine over the rest
            if progress < fraction:
                return max(progress / fraction, 1e-3)
            return cosine_decay((progress - fraction) / (1 - fraction), config.min_lr_ratio)
        if step < warmup_steps:  # warm-up in steps
            return (step + 1) / warmup_steps
        return cosine_decay(progress, config.min_lr_ratio)

    # ----------------------------------------------------------- checkpointing
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        check_finite_weights(checkpoint.get("state_dict", {}), self.global_step)
        datamodule = getattr(self.trainer, "datamodule", None)
        checkpoint["infossl"] = {
            "format_version": CHECKPOINT_FORMAT_VERSION,
            "method": self.method.name,
            "method_spec": self.method.spec(),
            "train_seconds": self.train_seconds,
            "backbone": self.backbone_spec.to_dict(),
            "feature_dim": self.feature_dim,
            "preprocess": datamodule.preprocess_info() if hasattr(datamodule, "preprocess_info") else None,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        info = checkpoint_info(checkpoint)
        if info["method"] != self.method.name or info["backbone"] != self.backbone_spec.to_dict():
            raise InputError(
                f"checkpoint is for method {info['method']!r} with backbone {info['backbone']}, but the "
                f"configuration asks for model.method {self.method.name!r} with model.backbone "
                f"{self.backbone_spec.to_dict()}"
            )
        self.train_seconds = float(info.get("train_seconds", 0.0))
