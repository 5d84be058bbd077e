"""Killed, signalled and diverging runs: nothing beyond the last checkpoint interval is lost.

The training runs are real ``python -m infossl pretrain`` subprocesses on tiny data.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from infossl.encoder import read_checkpoint
from infossl.training.reliability import AtomicCheckpointIO

from pipeline_helpers import CPU_TRAINER

TESTS = Path(__file__).resolve().parent
STEPS_PER_EPOCH = 8  # 128 images, batch 16
RUN = [
    "--config", "quickstart/imsvd.yaml", *CPU_TRAINER,
    "--data.source", "synthetic", "--data.synthetic.train_size", "128", "--data.synthetic.test_size", "32",
    "--data.batch_size", "16",
    "--model.backbone.widths", "[8, 16, 16, 32]",
    "--model.channels_last", "false",
    "--trainer.max_epochs", "2",
    "--trainer.deterministic", "true",
    "--trainer.log_every_n_steps", "1",
    "--checkpoint.every_n_train_steps", "3",
    "--knn.every_n_epochs", "0",
    "--diagnostics.every_n_epochs", "0",
]
SLOW = ["--trainer.callbacks+=pipeline_helpers.SlowSteps", "--trainer.callbacks.seconds", "0.4"]


def start(run_dir: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-m", "infossl", "pretrain", *RUN, "--run_dir", str(run_dir), *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def checkpoint_step(path: Path) -> int | None:
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["global_step"])
    except Exception:
        return None


def wait_for_checkpoint(run_dir: Path, min_step: int, process: subprocess.Popen, timeout: float = 240) -> int:
    path, deadline = run_dir / "checkpoints" / "last.ckpt", time.monotonic() + timeout
    while time.monotonic() < deadline:
        step = checkpoint_step(path) if path.is_file() else None
        if step is not None and step >= min_step:
            return step
        if process.poll() is not None:
            raise AssertionError(f"run ended before step {min_step}: {process.stderr.read()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError("no checkpoint in time")


def losses_by_step(run_dir: Path) -> dict[int, float]:
    """train/loss per step; the last row of a step wins (rows after a resume come last)."""
    out = {}
    for row in csv.DictReader((run_dir / "metrics.csv").open()):
        if row.get("train/loss"):
            out[int(row["step"])] = float(row["train/loss"])
    return out


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return read_checkpoint(run_dir / "checkpoints" / "last.ckpt")["state_dict"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("reference")
    code, err = finish(start(run_dir))
    assert code == 0, err[-3000:]
    return run_dir


def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(reference, tmp_path) -> None:
    process = start(tmp_path, *SLOW)
    saved = wait_for_checkpoint(tmp_path, 3, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert saved % STEPS_PER_EPOCH != 0  # mid-epoch
    assert checkpoint_step(tmp_path / "checkpoints" / "last.ckpt") == saved  # loadable after the kill
    code, err = finish(start(tmp_path, "--resume", "true"))
    assert code == 0, err[-3000:]
    final, expected = weights(tmp_path), weights(reference)
    assert final.keys() == expected.keys()
    for key in expected:
        torch.testing.assert_close(final[key], expected[key], rtol=0, atol=0, msg=key)
    resumed, uninterrupted = losses_by_step(tmp_path), losses_by_step(reference)
    after = [s for s in uninterrupted if s >= saved]
    assert len(after) == 2 * STEPS_PER_EPOCH - saved
    for step in after:
        assert resumed[step] == pytest.approx(uninterrupted[step], rel=1e-6), step
    assert min(resumed) == 0  # the first session's rows are kept too


@pytest.mark.slow  # tests/test_shards.py stops a 2-process run by SIGTERM and resumes it, with the same checks
def test_sigterm_saves_a_checkpoint_and_says_how_to_resume(reference, tmp_path) -> None:
    process = start(tmp_path, *SLOW)
    wait_for_checkpoint(tmp_path, 3, process)
    process.send_signal(signal.SIGTERM)
    code, err = finish(process)
    assert code == 128 + signal.SIGTERM
    assert "Traceback" not in err
    assert "stopped by SIGTERM after step" in err and "Resume with: infossl pretrain" in err and "--resume true" in err
    stopped = checkpoint_step(tmp_path / "checkpoints" / "last.ckpt")
    assert stopped is not None and 3 <= stopped < 2 * STEPS_PER_EPOCH and f"after step {stopped};" in err
    # the checkpoint is at the step where the run stopped: resuming loses nothing
    code, err = finish(start(tmp_path, "--resume", "true"))
    assert code == 0, err[-3000:]
    for key, value in weights(reference).items():
        torch.testing.assert_close(weights(tmp_path)[key], value, rtol=0, atol=0, msg=key)


@pytest.mark.slow  # the SIGTERM tests cover the same handler; this one adds SIGINT's exit status
def test_ctrl_c_stops_cleanly_with_a_checkpoint(tmp_path) -> None:
    process = start(tmp_path, *SLOW)
    wait_for_checkpoint(tmp_path, 3, process)
    process.send_signal(signal.SIGINT)
    code, err = finish(process)
    assert code == 128 + signal.SIGINT and "stopped by SIGINT" in err and "Traceback" not in err


@pytest.mark.slow  # test_divergence_keeps_the_last_good_checkpoint checks the same stop on a planted NaN
def test_a_huge_learning_rate_stops_with_the_step_and_term_and_writes_no_broken_checkpoint(tmp_path) -> None:
    process = start(tmp_path, "--model.optim.lr", "1e9", "--model.optim.name", "sgd", "--model.optim.scale_lr_by_batch", "false")
    code, err = finish(process)
    assert code == 1, err[-3000:]
    assert "Traceback" not in err
    message = err[err.index("training diverged") :]
    assert "non-finite loss at step" in message and "terms" in message or "weights became non-finite by step" in message
    checkpoint = tmp_path / "checkpoints" / "last.ckpt"
    if checkpoint.is_file():  # whatever was written is finite
        state = read_checkpoint(checkpoint)["state_dict"]
        assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


@pytest.mark.parametrize(
    ("when", "expected"),
    [("start", r"non-finite loss at step 5 \(epoch 0\): terms invariance, diagonal, off_diagonal = nan"),
     ("end", r"weights became non-finite by step 6 \(backbone\.")],
)
def test_divergence_keeps_the_last_good_checkpoint(tmp_path, when, expected) -> None:
    poison = ["--trainer.callbacks+=pipeline_helpers.PoisonWeights", "--trainer.callbacks.step", "5" if when == "start" else "6",
              "--trainer.callbacks.when", when]
    code, err = finish(start(tmp_path, *poison))
    assert code == 1 and "Traceback" not in err, err[-3000:]
    assert re.search(expected, err), err[-2000:]
    assert "the last good" in err
    checkpoint = read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert checkpoint["global_step"] == 3  # the step-6 checkpoint was never written
    assert all(torch.isfinite(v).all() for v in checkpoint["state_dict"].values() if v.is_floating_point())


def test_a_kill_during_a_checkpoint_write_leaves_the_previous_one_loadable(tmp_path) -> None:
    path = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"global_step": 1, "w": torch.zeros(3)}, path)
    writer = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, torch; from infossl.training.reliability import AtomicCheckpointIO; "
            "AtomicCheckpointIO().save_checkpoint({'global_step': 2, 'w': torch.ones(150_000_000)}, sys.argv[1])",
            str(path),
        ]
    )
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".last.ckpt.*.tmp")):  # the write has started
        assert time.monotonic() < deadline and writer.poll() is None, "the writer never started writing"
        time.sleep(0.01)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    state = torch.load(path, weights_only=True)
    assert state["global_step"] == 1 and torch.equal(state["w"], torch.zeros(3))


def test_the_resumable_csv_logger_keeps_earlier_rows_and_only_rank_zero_touches_them(tmp_path, monkeypatch) -> None:
    from lightning.fabric.utilities.rank_zero import rank_zero_only
    from lightning.pytorch.loggers.logger import DummyExperiment

    from infossl.cli.pretrain import ResumableCSVLogger

    def logger(keep_previous: bool) -> ResumableCSVLogger:
        return ResumableCSVLogger(save_dir=tmp_path, name="", version="", keep_previous=keep_previous)

    earlier = "epoch,step,train/loss\n0,1,2.5\n"
    (tmp_path / "metrics.csv").write_text(earlier)
    # another DDP rank: no experiment and no file access, so it cannot race rank 0 recreating the file
    with monkeypatch.context() as patch:
        patch.setattr(rank_zero_only, "rank", 1)
        patch.setattr(Path, "read_text", lambda *_: pytest.fail("rank 1 read metrics.csv"))
        patch.setattr(Path, "is_file", lambda *_: pytest.fail("rank 1 looked for metrics.csv"))
        assert isinstance(logger(True).experiment, DummyExperiment)
    assert (tmp_path / "metrics.csv").read_text() == earlier
    resumed = logger(True)
    resumed.log_metrics({"train/loss": 1.5}, step=2)
    resumed.save()
    assert (tmp_path / "metrics.csv").read_text().startswith(earlier) and "1.5" in (tmp_path / "metrics.csv").read_text()
    fresh = logger(False)
    fresh.log_metrics({"train/loss": 0.5}, step=1)
    fresh.save()
    assert "2.5" not in (tmp_path / "metrics.csv").read_text()
