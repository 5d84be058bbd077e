"""Runs that get killed, stopped or diverge lose at most one checkpoint interval.

- :class:`AtomicCheckpointIO`: a checkpoint is written to a temporary file in the
  same folder, flushed to disk, then renamed over the old one, so a kill during a
  write leaves the previous checkpoint intact and loadable.
- :class:`GracefulShutdown`: on SIGTERM (schedulers, ``kill``) or the first Ctrl-C,
  the run finishes its current step, saves ``last.ckpt`` at that step and stops;
  the command then exits with 128 + the signal number and says how to resume. A
  second Ctrl-C interrupts immediately.
- :class:`FinalCheckpoint`: a run that ends (epochs done, time budget spent, a
  signal) between two checkpoint intervals still saves ``last.ckpt`` at its final
  step; Lightning's ``ModelCheckpoint(every_n_train_steps=...)`` would leave the
  last interval's weights there.
- Non-finite losses stop the run in the training step (``NonFiniteLossError``,
  naming the step and the terms) and non-finite weights are never saved, so the
  last good checkpoint is kept.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO


class NonFiniteLossError(RuntimeError):
    """The loss, one of its terms or the weights became NaN or Inf."""


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to a temporary file, ``fsync``, then ``os.replace`` onto the target."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, path)  # atomic on POSIX and Windows within one file system
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class GracefulShutdown(L.Callback):
    """Save and stop at the end of the current step on SIGTERM / the first SIGINT."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.received: int | None = None  # the signal number that asked to stop
        self.saved_to: Path | None = None
        self.saved_step: int | None = None
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        if self.received is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # second Ctrl-C: stop now
        self.received = signum

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # after Lightning registered its own SIGTERM handler (which would exit the
        # process with status 0 at the end of the step): ours replaces it
        self.received, self.saved_to = None, None
        try:
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handler)
        except ValueError:  # not the main thread (e.g. a notebook helper thread): no handlers
            self._previous = {}

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        stop = self.received is not None
        if trainer.world_size > 1:  # stop together when any rank was signalled
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if not stop:
            return
        path = Path(trainer.checkpoint_callback.dirpath if trainer.checkpoint_callback else trainer.default_root_dir)
        path = path / "last.ckpt"
        trainer.save_checkpoint(path)
        self.saved_to, self.saved_step = path, trainer.global_step
        self.received = self.received or signal.SIGTERM
        trainer.should_stop = True

    def _restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._restore()


class FinalCheckpoint(L.Callback):
    """Save ``last.ckpt`` when training ends at a step no checkpoint was written at."""

    def __init__(self) -> None:
        self.saved_step: int | None = None

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        self.saved_step = trainer.global_step

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        callback = trainer.checkpoint_callback
        if callback is None or not callback.save_last or callback.dirpath is None or self.saved_step == trainer.global_step:
            return
        # every rank calls save_checkpoint (DDP gathers sharded state); rank zero writes
        trainer.save_checkpoint(Path(callback.dirpath) / f"{callback.CHECKPOINT_NAME_LAST}{callback.FILE_EXTENSION}")


def check_finite_weights(state_dict: dict[str, Any], step: int) -> None:
    """Refuse to write a checkpoint with NaN/Inf weights (the last good one stays)."""
    bad = [k for k, v in state_dict.items() if torch.is_tensor(v) and v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise NonFiniteLossError(
            f"weights became non-finite by step {step} ({shown}); the checkpoint was not written and the last good "
            f"one is kept. Lower model.optim.lr or enable trainer.gradient_clip_val."
        )
