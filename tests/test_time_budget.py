"""A wall-clock training budget stops the run and drives the schedule by elapsed time."""

from __future__ import annotations

import csv

import pytest
import torch

from infossl.cli.pretrain import pretrain

from pipeline_helpers import CPU_TRAINER, TINY_DATA, run_args


def test_time_budget_stops_the_run_and_anneals_the_learning_rate(tmp_path) -> None:
    args = [
        "--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER, *run_args(tmp_path),
        "--model.backbone.widths", "[8, 16, 16, 32]",
        # 6 s of training: long against one step even with both cores busy (a step of up to
        # 2 s still leaves the last one starting past 2/3 of the budget, where the cosine is
        # below 0.25); a 1.8 s budget failed that way under load
        "--model.time_budget_min", "0.1",
        "--model.optim.warmup_epochs", "0",
        "--trainer.max_epochs", "500",
        "--trainer.log_every_n_steps", "1",
        "--knn.every_n_epochs", "0",
        "--diagnostics.every_n_epochs", "0",
        "--checkpoint.every_n_train_steps", "7",  # the budget ends between two of them most of the time
    ]
    cli = pretrain(args)
    module = cli.model
    assert 6.0 <= module.train_seconds < 6.0 + 10.0
    assert cli.trainer.global_step < 500 * 4  # stopped by the budget, not by max_epochs
    lrs = [float(r["train/lr"]) for r in csv.DictReader((tmp_path / "metrics.csv").open()) if r.get("train/lr")]
    peak = cli.model.optim_config.lr * 16 / 256 if cli.model.optim_config.scale_lr_by_batch else cli.model.optim_config.lr
    assert lrs[0] > 0.9 * peak  # starts at the peak (no warm-up)
    assert lrs[-1] < 0.35 * peak  # and has annealed most of the way by the end of the budget
    assert all(a >= b - 1e-12 for a, b in zip(lrs, lrs[1:]))  # monotone in time
    # the budget ends between checkpoint intervals: last.ckpt still holds the final step's weights
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    assert last["global_step"] == cli.trainer.global_step
    weights = cli.model.state_dict()
    assert all(torch.equal(last["state_dict"][k], weights[k]) for k in weights)


@pytest.mark.parametrize(("max_steps", "interval"), [(5, 2), (4, 2)])
def test_last_checkpoint_is_the_final_step_between_or_at_an_interval(tmp_path, max_steps, interval) -> None:
    args = ["--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER, *run_args(tmp_path), "--trainer.max_steps", str(max_steps),
            "--checkpoint.every_n_train_steps", str(interval), "--knn.every_n_epochs", "0", "--diagnostics.every_n_epochs", "0"]
    cli = pretrain(args)
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    assert last["global_step"] == max_steps == cli.trainer.global_step
    weights = cli.model.state_dict()
    assert all(torch.equal(last["state_dict"][k], weights[k]) for k in weights)
