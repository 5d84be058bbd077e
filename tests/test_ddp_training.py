"""Two-process DDP pretraining on CPU (gloo) through the real command line."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pipeline_helpers import CPU_TRAINER, TINY_DATA


def ddp_trainer() -> list[str]:
    """The CPU trainer arguments with 2 processes (gloo DDP)."""
    trainer = [a for a in CPU_TRAINER]
    trainer[trainer.index("--trainer.devices") + 1] = "2"
    trainer[trainer.index("--trainer.strategy") + 1] = "ddp"
    return trainer


# the default suite's DDP runs through the CLI are the time-budget runs below (with the kNN
# monitor) and the streaming-shards resume run (tests/test_shards.py); these add two more methods
@pytest.mark.slow
@pytest.mark.parametrize(
    "method_args",
    [
        ["--model.method", "infossl.methods.IMSVD", "--model.method.projector", "[64,64]", "--model.method.num_states", "8"],
        ["--model.method", "infossl.methods.BYOL", "--model.method.projector", "[64,32]", "--model.method.predictor", "[64,32]"],
    ],
    ids=["imsvd", "byol"],
)
def test_two_process_ddp_trains(tmp_path, method_args) -> None:
    trainer = ddp_trainer()
    cmd = [
        sys.executable, "-m", "infossl", "pretrain", "--config", "quickstart/imsvd.yaml", *TINY_DATA, *trainer,
        "--trainer.max_steps", "3", "--model.backbone.widths", "[8,16,16,16]", "--knn.every_n_epochs", "1",
        "--trainer.log_every_n_steps", "1", "--run_dir", str(tmp_path), *method_args,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == 3
    assert all(torch.isfinite(v).all() for v in checkpoint["state_dict"].values() if v.is_floating_point())
    header, *rows = (tmp_path / "metrics.csv").read_text().splitlines()
    losses = [float(v) for row in rows for k, v in zip(header.split(","), row.split(",")) if k == "train/loss" and v]
    assert losses and all(math.isfinite(v) for v in losses)


def ddp_budget_run(run_dir, max_steps: int, shared_clock: bool = True) -> list[dict]:
    """Two ranks with a 0.1-minute budget, rank 1's clock running at half speed."""
    trainer = ddp_trainer()
    cmd = [
        sys.executable, "-m", "infossl", "pretrain", "--config", "quickstart/imsvd.yaml", *TINY_DATA, *trainer,
        # the kNN monitor gathers features from both ranks at every epoch's end
        "--model.backbone.widths", "[8,16,16,16]", "--knn.every_n_epochs", "1", "--diagnostics.every_n_epochs", "0",
        "--trainer.log_every_n_steps", "1",
        "--model.time_budget_min", "0.1", "--model.optim.warmup_epochs", "0", "--trainer.max_epochs", "-1",
        "--trainer.max_steps", str(max_steps), "--trainer.callbacks+=pipeline_helpers.SkewedClock",
        "--trainer.callbacks.shared_clock", str(shared_clock).lower(), "--run_dir", str(run_dir),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return [torch.load(run_dir / f"clock_rank{rank}.pt", weights_only=False) for rank in range(2)]


def test_a_time_budget_under_ddp_runs_on_rank_zeros_clock(tmp_path) -> None:
    # the budget ends the run (max_steps is far away): rank 1's slow clock would keep it going
    ranks = ddp_budget_run(tmp_path, max_steps=10_000)
    assert ranks[0]["global_step"] == ranks[1]["global_step"] < 10_000
    assert ranks[0]["lrs"] == ranks[1]["lrs"] and ranks[0]["lrs"][-1] < ranks[0]["lrs"][0]
    assert ranks[0]["train_seconds"] == ranks[1]["train_seconds"] >= 6.0
    for key, value in ranks[0]["weights"].items():
        assert torch.equal(value, ranks[1]["weights"][key]), key
    header, *rows = (tmp_path / "metrics.csv").read_text().splitlines()
    columns = header.split(",")
    logged = {key: [float(v) for row in rows for k, v in zip(columns, row.split(",")) if k == key and v] for key in columns}
    assert logged["train/loss"] and all(math.isfinite(v) for v in logged["train/loss"])
    knn = [key for key in columns if key.startswith("knn")]
    assert knn and all(logged[key] and all(0 <= v <= 1 for v in logged[key]) for key in knn), knn


def test_negative_control_per_rank_clocks_give_ranks_different_learning_rates(tmp_path) -> None:
    # the shared clock patched out; max_steps ends the run before the budget, so no rank waits
    ranks = ddp_budget_run(tmp_path, max_steps=6, shared_clock=False)
    assert ranks[0]["global_step"] == ranks[1]["global_step"] == 6
    assert ranks[0]["lrs"] != ranks[1]["lrs"]
