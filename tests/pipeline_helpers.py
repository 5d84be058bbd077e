"""Shared settings for the pipeline tests: tiny data, tiny models, CPU."""

from __future__ import annotations

import time
from pathlib import Path

import lightning as L

TINY_DATA = [
    "--data.source", "synthetic",
    "--data.synthetic.train_size", "64",
    "--data.synthetic.test_size", "32",
    "--data.batch_size", "16",
    "--data.num_workers", "0",
]
CPU_TRAINER = [
    "--trainer.accelerator", "cpu",
    "--trainer.devices", "1",
    "--trainer.num_nodes", "1",
    "--trainer.strategy", "auto",
    "--trainer.precision", "32-true",
    "--trainer.sync_batchnorm", "false",
    "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
]


def run_args(run_dir: Path) -> list[str]:
    return ["--run_dir", str(run_dir)]


class SlowSteps(L.Callback):
    """Sleeps after each training step (``--trainer.callbacks+=pipeline_helpers.SlowSteps``),
    so that a test can signal a subprocess at a chosen point of a run."""

    def __init__(self, seconds: float = 0.3) -> None:
        self.seconds = seconds

    def on_train_batch_end(self, *args) -> None:
        time.sleep(self.seconds)


class PoisonWeights(L.Callback):
    """Sets the backbone's weights to NaN at a chosen step, before the step
    (``when="start"``: the loss goes NaN) or after it, before the step's
    checkpoint is written (``when="end"``)."""

    def __init__(self, step: int = 5, when: str = "start") -> None:
        self.step, self.when = step, when

    def _poison(self, trainer, pl_module) -> None:
        import torch

        with torch.no_grad():
            for p in pl_module.backbone.parameters():
                p.fill_(float("nan"))

    def on_train_batch_start(self, trainer, pl_module, *args) -> None:
        if self.when == "start" and trainer.global_step == self.step:
            self._poison(trainer, pl_module)

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        if self.when == "end" and trainer.global_step == self.step:
            self._poison(trainer, pl_module)


class RaiseAtStep(L.Callback):
    """Raises a plain ValueError at a step: stands for a bug inside a run."""

    def __init__(self, step: int = 1) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, *args) -> None:
        if trainer.global_step == self.step:
            raise ValueError("planted bug")


class SkewedClock(L.Callback):
    """Makes one rank's training clock run ``factor`` times as fast as the others' (a slow
    or busy machine), and records on every rank the learning rate of each step, the
    training time and the final weights in ``RUN_DIR/clock_rank<rank>.pt``.
    ``shared_clock=False`` patches the shared clock out (a negative control)."""

    def __init__(self, rank: int = 1, factor: float = 0.5, shared_clock: bool = True) -> None:
        self.rank, self.factor, self.shared_clock = rank, factor, shared_clock
        self.lrs: list[float] = []

    def on_fit_start(self, trainer, pl_module) -> None:
        import types

        import infossl.training.module as module

        if trainer.global_rank == self.rank:
            start = time.perf_counter()
            skewed = lambda: start + self.factor * (time.perf_counter() - start)  # noqa: E731
            module.time = types.SimpleNamespace(perf_counter=skewed)
        if not self.shared_clock:
            pl_module._shared_clock = lambda seconds: seconds

    def on_train_batch_start(self, trainer, pl_module, *args) -> None:
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])

    def on_fit_end(self, trainer, pl_module) -> None:
        import torch

        record = {
            "lrs": self.lrs,
            "global_step": trainer.global_step,
            "train_seconds": pl_module.train_seconds,
            "weights": {k: v.detach().clone() for k, v in pl_module.state_dict().items()},
        }
        torch.save(record, Path(trainer.default_root_dir) / f"clock_rank{trainer.global_rank}.pt")
