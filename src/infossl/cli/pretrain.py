"""``infossl pretrain``: LightningCLI over SSLModule and SSLDataModule.

Config files (``--config``) and overrides (``--trainer.max_epochs 5``,
``--data.batch_size 128``, ``--model.method.num_states 16``) are parsed and
type-checked by jsonargparse before anything is built or trained.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from jsonargparse import ArgumentError
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from infossl.cli.configs import resolve_config_args
from infossl.cli.errors import ConfigError, explain
from infossl.data import SSLDataModule
from infossl.training import DiagnosticsMonitor, KNNMonitor, OnlineLinearProbe, SSLModule


class PretrainCLI(LightningCLI):
    def parse_arguments(self, parser, args) -> None:
        try:
            super().parse_arguments(parser, args)
        except ArgumentError as error:
            raise ConfigError(explain(str(error), list(parser.get_defaults().keys()))) from None

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument("--run_dir", type=str, default="runs/default", help="folder for config, checkpoints and logs")
        parser.add_argument("--resume", type=bool, default=False, help="resume from RUN_DIR/checkpoints/last.ckpt")
        parser.add_lightning_class_args(KNNMonitor, "knn")
        parser.add_lightning_class_args(OnlineLinearProbe, "online_probe")
        parser.add_lightning_class_args(DiagnosticsMonitor, "diagnostics")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.save_last": True, "checkpoint.save_top_k": 0})
        parser.link_arguments("run_dir", "checkpoint.dirpath", compute_fn=lambda run_dir: str(Path(run_dir) / "checkpoints"))
        parser.link_arguments("seed_everything", "data.seed")

    def instantiate_trainer(self, **kwargs: Any):
        run_dir = Path(self._get(self.config, "run_dir"))
        if self._get(self.config_init, "trainer").get("logger") in (None, True):
            kwargs["logger"] = [
                CSVLogger(str(run_dir), name="", version=""),
                TensorBoardLogger(str(run_dir), name="", version=""),
            ]
        kwargs["default_root_dir"] = str(run_dir)
        return super().instantiate_trainer(**kwargs)

    def resume_path(self) -> str | None:
        if not self._get(self.config, "resume"):
            return None
        last = Path(self._get(self.config, "run_dir")) / "checkpoints" / "last.ckpt"
        if not last.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint at {last}; run without --resume to start a new run")
        return str(last)


TRAINER_DEFAULTS = {
    "accelerator": "auto",
    "devices": 1,
    "max_epochs": 100,
    "use_distributed_sampler": False,  # the data module shards with a stateful sampler
    "log_every_n_steps": 10,
}


def build_cli(args: list[str], **kwargs: Any) -> PretrainCLI:
    """Parse ``args`` (config files and overrides) and build model, data and trainer."""
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
        parser_kwargs={"prog": "infossl pretrain", "default_env": False, "exit_on_error": False},
        **kwargs,
    )


def pretrain(args: list[str]) -> PretrainCLI:
    cli = build_cli(args)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule, ckpt_path=cli.resume_path())
    return cli
