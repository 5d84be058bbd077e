"""A wall-clock training budget stops the run and drives the schedule by elapsed time."""

from __future__ import annotations

import csv

import pytest
import torch

from infossl.cli.pretrain import pretrain
from infossl.training.optim import cosine_decay

from pipeline_helpers import CPU_TRAINER, TINY_DATA, run_args


def test_time_budget_stops_the_run_and_anneals_the_learning_rate(tmp_path) -> None:
    args = [
        "--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER, *run_args(tmp_path),
        "--model.backbone.widths", "[8, 16, 16, 32]",
        # 6 s of training (a 1.8 s budget was one or two steps long with both cores busy)
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
    rows = [r for r in csv.DictReader((tmp_path / "metrics.csv").open()) if r.get("train/lr") and r.get("time/train_s")]
    lrs = [float(r["train/lr"]) for r in rows]
    elapsed = [float(r["time/train_s"]) for r in rows]
    config = cli.model.optim_config
    peak = config.lr * 16 / 256 if config.scale_lr_by_batch else config.lr
    assert lrs[0] > 0.9 * peak  # starts at the peak (no warm-up)
    # the cosine follows the training time, whatever each step cost (a loaded machine makes
    # steps long and uneven): step k's learning rate is the schedule at the time recorded at
    # the end of step k - 2 (the scheduler steps before the module records step k - 1's time)
    for k in range(2, len(lrs)):
        assert lrs[k] == pytest.approx(peak * cosine_decay(elapsed[k - 2] / 6.0, config.min_lr_ratio), rel=1e-4, abs=1e-9), k
    assert lrs[-1] < lrs[0]
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
