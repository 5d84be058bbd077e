"""Two-process DDP pretraining on CPU (gloo) through the real command line."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

from pipeline_helpers import CPU_TRAINER, TINY_DATA


@pytest.mark.parametrize(
    "method_args",
    [
        ["--model.method", "infossl.methods.IMSVD", "--model.method.projector", "[64,64]", "--model.method.num_states", "8"],
        # the same CLI path as imsvd's; the EMA teacher under DDP adds the second process run
        pytest.param(
            ["--model.method", "infossl.methods.BYOL", "--model.method.projector", "[64,32]", "--model.method.predictor", "[64,32]"],
            marks=pytest.mark.slow,
        ),
    ],
    ids=["imsvd", "byol"],
)
def test_two_process_ddp_trains(tmp_path, method_args) -> None:
    trainer = [a for a in CPU_TRAINER]
    trainer[trainer.index("--trainer.devices") + 1] = "2"
    trainer[trainer.index("--trainer.strategy") + 1] = "ddp"
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
