"""``infossl pretrain``: LightningCLI over SSLModule and SSLDataModule.

Config files (``--config``) and overrides (``--trainer.max_epochs 5``,
``--data.batch_size 128``, ``--model.method.num_states 16``) are parsed and
type-checked by jsonargparse before anything is built or trained.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path
from typing import Any

from jsonargparse import ArgumentError
from lightning.fabric.plugins import CheckpointIO
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.loggers.logger import rank_zero_experiment
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from infossl.cli.configs import resolve_config_args
from infossl.cli.errors import ConfigError, explain
from infossl.data import SSLDataModule
from infossl.errors import MissingPathError
from infossl.training import (
    DiagnosticsMonitor,
    KNNMonitor,
    OnlineLinearProbe,
    SSLModule,
)
from infossl.training.precision import default_cpu_precision
from infossl.training.reliability import (
    AtomicCheckpointIO,
    FinalCheckpoint,
    GracefulShutdown,
)


class RunInterrupted(Exception):
    """The run stopped on a signal after saving a checkpoint; ``exit_code`` = 128 + signal."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ResumableCSVLogger(CSVLogger):
    """CSVLogger that, when resuming (``keep_previous``), keeps the rows of earlier
    sessions of the run (Lightning's deletes ``metrics.csv`` when a new session
    starts); rows of steps repeated after a resume follow the earlier ones, so the
    last row of a step is current. A fresh run into an existing folder starts a new file.
    Only global rank 0 touches the file (as Lightning's own logger): under DDP another rank
    reading it while rank 0 recreates it would fail."""

    def __init__(self, *args: Any, keep_previous: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keep_previous = keep_previous

    @property
    @rank_zero_experiment
    def experiment(self):
        if self._experiment is not None:
            return self._experiment
        path = Path(self.log_dir) / "metrics.csv"
        previous = path.read_text() if self.keep_previous and path.is_file() else None
        experiment = super().experiment  # removes metrics.csv
        if previous:
            path.write_text(previous)
            experiment.metrics_keys = next(csv.reader([previous.splitlines()[0]]))
        return experiment


def runs_on_cpu(accelerator: Any) -> bool:
    """Whether Lightning's ``accelerator`` setting resolves to the CPU."""
    if accelerator == "cpu":
        return True
    if accelerator not in (None, "auto"):
        return False
    import torch

    return not torch.cuda.is_available() and not torch.backends.mps.is_available()


class PretrainCLI(LightningCLI):
    """LightningCLI over :class:`SSLModule` and :class:`SSLDataModule`, with infossl's run
    folder, loggers, reliability callbacks and errors that name the key at fault."""

    def parse_arguments(self, parser, args) -> None:
        try:
            super().parse_arguments(parser, args)
        except ArgumentError as error:
            raise ConfigError(explain(str(error), list(parser.get_defaults().keys()))) from None

    def instantiate_classes(self) -> None:
        # a constructor that rejects its value (num_states=0, a projector K does not
        # divide, ...) is a configuration error: one line, exit status 2, before any work
        try:
            super().instantiate_classes()
        except ConfigError:
            raise
        except ValueError as error:
            raise ConfigError(f"invalid configuration: {error}") from error

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument("--run_dir", type=str, default="runs/default", help="folder for config, checkpoints and logs")
        parser.add_argument("--resume", type=bool, default=False, help="resume from RUN_DIR/checkpoints/last.ckpt")
        parser.add_lightning_class_args(KNNMonitor, "knn")
        parser.add_lightning_class_args(OnlineLinearProbe, "online_probe")
        parser.add_lightning_class_args(DiagnosticsMonitor, "diagnostics")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        # a new run in an existing folder replaces last.ckpt instead of writing last-v1.ckpt beside
        # it, so that last.ckpt (what --resume, eval and export read) is always the latest run's
        parser.set_defaults({"checkpoint.save_last": True, "checkpoint.save_top_k": 0, "checkpoint.enable_version_counter": False})
        parser.link_arguments("run_dir", "checkpoint.dirpath", compute_fn=lambda run_dir: str(Path(run_dir) / "checkpoints"))
        parser.link_arguments("seed_everything", "data.seed")
        # the learning-rate scaling needs the global batch: given once, as data.batch_size
        parser.link_arguments("data.batch_size", "model.batch_size")

    def instantiate_trainer(self, **kwargs: Any):
        run_dir = Path(self._get(self.config, "run_dir"))
        if self._get(self.config_init, "trainer").get("logger") in (None, True):
            kwargs["logger"] = [
                ResumableCSVLogger(
                    str(run_dir), name="", version="", flush_logs_every_n_steps=1, keep_previous=bool(self._get(self.config, "resume"))
                ),
                TensorBoardLogger(str(run_dir), name="", version=""),
            ]
        kwargs["default_root_dir"] = str(run_dir)
        trainer_config = self._get(self.config_init, "trainer")
        plugins = list(trainer_config.get("plugins") or [])
        if not any(isinstance(p, CheckpointIO) for p in plugins):
            kwargs["plugins"] = [*plugins, AtomicCheckpointIO()]
        kwargs["callbacks"] = [*(trainer_config.get("callbacks") or []), GracefulShutdown(), FinalCheckpoint()]
        if trainer_config.get("precision") is None and runs_on_cpu(trainer_config.get("accelerator")):
            precision, reason = default_cpu_precision()
            rank_zero_info(f"trainer.precision={precision}: {reason}; set trainer.precision to override")
            kwargs["precision"] = precision
        return super().instantiate_trainer(**kwargs)

    def resume_path(self) -> str | None:
        last = Path(self._get(self.config, "run_dir")) / "checkpoints" / "last.ckpt"
        if not self._get(self.config, "resume"):
            if last.is_file():
                rank_zero_warn(f"{last} holds a checkpoint of an earlier run; this new run replaces it (--resume true continues it instead)")
            return None
        if not last.is_file():
            raise MissingPathError(f"--resume: no checkpoint at {last}; run without --resume to start a new run")
        return str(last)


TRAINER_DEFAULTS = {
    "accelerator": "auto",
    "devices": 1,
    "max_epochs": 100,
    "use_distributed_sampler": False,  # the data module shards with a stateful sampler
    "log_every_n_steps": 10,
}


def build_cli(args: list[str], prog: str = "infossl pretrain", **kwargs: Any) -> PretrainCLI:
    """Parse ``args`` (config files and overrides) and build model, data and trainer;
    ``prog`` names the command in usage and help."""
    # args are passed explicitly, also when they came from our own command line
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
    return PretrainCLI(
        SSLModule,
        SSLDataModule,
        args=resolve_config_args(args),
        run=False,
        seed_everything_default=0,
        trainer_defaults=TRAINER_DEFAULTS,
        save_config_kwargs={"overwrite": True},
        # allow_abbrev=False: a typo'd prefix such as --trainer.max_epoch is an error, never
        # silently taken for --trainer.max_epochs
        parser_kwargs={"prog": prog, "default_env": False, "exit_on_error": False, "allow_abbrev": False},
        **kwargs,
    )


def check_before_fit(cli: PretrainCLI) -> None:
    """Configuration errors that need the built trainer, raised before any work."""
    world = cli.trainer.world_size
    if cli.datamodule.batch_size % world != 0:
        raise ConfigError(
            f"data.batch_size={cli.datamodule.batch_size} is not divisible by the {world} processes "
            f"(trainer.devices x trainer.num_nodes); choose a multiple of {world}"
        )
    resume = cli.resume_path()
    if resume is not None:
        from infossl.encoder import read_checkpoint

        info = read_checkpoint(resume)["infossl"]
        model = cli.model
        if info["method"] != model.method.name:
            raise ConfigError(
                f"--resume: {resume} was trained with model.method {info['method']!r}, the configuration asks for "
                f"{model.method.name!r}; use the run's own config or another --run_dir"
            )
        if info["backbone"] != model.backbone_spec.to_dict():
            raise ConfigError(
                f"--resume: {resume} was trained with model.backbone {info['backbone']}, the configuration asks for "
                f"{model.backbone_spec.to_dict()}; use the run's own config or another --run_dir"
            )


def pretrain(args: list[str]) -> PretrainCLI:
    cli = build_cli(args)
    check_before_fit(cli)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule, ckpt_path=cli.resume_path())
    shutdown = next((c for c in cli.trainer.callbacks if isinstance(c, GracefulShutdown)), None)
    if shutdown is not None and shutdown.saved_to is not None:
        import shlex
        import signal

        name = signal.Signals(shutdown.received).name
        again = [a for a in args] + ([] if "--resume" in args else ["--resume", "true"])
        raise RunInterrupted(
            f"stopped by {name} after step {shutdown.saved_step}; checkpoint saved to {shutdown.saved_to}.\n"
            f"Resume with: infossl pretrain {shlex.join(again)}",
            128 + int(shutdown.received),
        )
    return cli
