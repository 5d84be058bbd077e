"""Shared settings for the pipeline tests: tiny data, tiny models, CPU."""

from __future__ import annotations

from pathlib import Path

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
