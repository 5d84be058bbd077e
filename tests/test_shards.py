"""Streaming shards (litdata): ``infossl prepare``, crops in the loader workers, and a
2-process x 2-worker run from shards that resumes after SIGTERM to the uninterrupted weights."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from infossl.cli.main import main
from infossl.data.augment import AugmentConfig, MultiViewAugment
from infossl.data.shards import ShardViews, crop_box, read_summary
from infossl.encoder import read_checkpoint

from pipeline_helpers import CPU_TRAINER

TESTS = Path(__file__).resolve().parent


def write_jpegs(root: Path, count: int = 300) -> None:
    rng = np.random.default_rng(0)
    for i in range(count):
        folder = root / ("circles" if i % 2 else "squares")
        folder.mkdir(parents=True, exist_ok=True)
        h, w = int(rng.integers(24, 80)), int(rng.integers(24, 80))  # mixed sizes and aspect ratios
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(folder / f"{i}.jpg", quality=90)
    (root / "squares" / "corrupt.jpg").write_bytes(b"\xff\xd8 not a jpeg")


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("shards")
    write_jpegs(root / "images")
    with pytest.warns(UserWarning, match="corrupt.jpg"):
        assert main(["prepare", str(root / "images"), str(root / "shards"), "--image_size", "32", "--num_workers", "2"]) == 0
    return root / "shards"


def test_prepare_writes_every_decodable_image_once_and_names_the_broken_one(shards) -> None:
    # litdata's optimize forces "spawn" process-wide; prepare restores the method it found
    assert multiprocessing.get_start_method(allow_none=True) in (None, "fork")
    summary = read_summary(shards)
    assert summary["images"] == 300 and summary["classes"] == ["circles", "squares"]
    assert len(summary["skipped"]) == 1 and "corrupt.jpg" in summary["skipped"][0]
    data = ShardViews(shards, 16, None, seed=0, train=False)
    assert len(data) == 300
    labels = []
    for i in range(len(data)):
        image, label = data[i]
        assert image.shape == (3, 16, 16) and image.dtype == torch.uint8
        labels.append(label)
    assert sorted(set(labels)) == [0, 1] and labels.count(1) == 150  # 150 squares decoded, the corrupt extra file skipped


def test_crops_depend_only_on_seed_epoch_and_image(shards) -> None:
    views = [((0.2, 1.0), 16), ((0.2, 1.0), 16)]
    a, b = ShardViews(shards, 16, views, seed=0, train=True), ShardViews(shards, 16, views, seed=0, train=True)
    first, _ = a[5]
    again, _ = b[5]
    assert all(torch.equal(x, y) for x, y in zip(first, again))
    assert not torch.equal(first[0], first[1])  # two views, two crops
    b.set_epoch(2)
    later, _ = b[5]
    assert not torch.equal(first[0], later[0])
    # multi-crop: local crops cut at their own size in the worker
    multi, _ = ShardViews(shards, 16, [*views, ((0.05, 0.14), 8), ((0.05, 0.14), 8)], seed=0, train=True)[5]
    assert [tuple(v.shape) for v in multi] == [(3, 16, 16)] * 2 + [(3, 8, 8)] * 2


def test_crop_box_stays_inside_and_follows_the_scale() -> None:
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        h, w = int(torch.randint(8, 100, ())), int(torch.randint(8, 100, ()))
        top, left, ch, cw = crop_box(h, w, (0.3, 0.6), (3 / 4, 4 / 3), generator)
        assert 0 <= top and top + ch <= h and 0 <= left and left + cw <= w and ch > 0 and cw > 0


def test_pre_cropped_views_get_the_rest_of_the_pipeline_batched() -> None:
    config = AugmentConfig(mean=(0.5,) * 3, std=(0.25,) * 3)
    augment = MultiViewAugment(config, 16, seed=0, cropped=True)
    views = [torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8) for _ in range(2)]
    out = augment(views)
    assert [tuple(v.shape) for v in out] == [(4, 3, 16, 16)] * 2
    with pytest.raises(ValueError, match="one batch per view"):
        augment(views[0])


def test_the_loader_state_is_what_resumes_mid_epoch(shards) -> None:
    """litdata's loader state with 2 workers: restored, the next batches are the uninterrupted
    ones (crops included); a fresh loader without it starts the epoch again."""
    from litdata import StreamingDataLoader

    def loader() -> StreamingDataLoader:
        return StreamingDataLoader(ShardViews(shards, 8, [((0.2, 1.0), 8)], seed=0, train=True), batch_size=10, num_workers=2)

    def take(batches, count: int) -> list[torch.Tensor]:
        return [views[0] for views, _ in (next(batches) for _ in range(count))]

    uninterrupted = take(iter(loader()), 7)
    first = loader()
    batches = iter(first)
    take(batches, 3)
    state = first.state_dict()
    del batches
    resumed, fresh = loader(), loader()
    resumed.load_state_dict(state)
    for got, expected in zip(take(iter(resumed), 4), uninterrupted[3:]):
        assert torch.equal(got, expected)
    assert not torch.equal(take(iter(fresh), 4)[0], uninterrupted[3])  # negative control


RUN = [
    "--config", "quickstart/imsvd.yaml", *CPU_TRAINER, "--data.source", "litdata", "--data.batch_size", "16",
    "--data.num_workers", "2", "--data.augment.image_size", "16", "--model.backbone.widths", "[8, 16, 16, 32]",
    "--model.channels_last", "false", "--trainer.max_steps", "8", "--trainer.max_epochs", "-1", "--trainer.deterministic", "true",
    "--trainer.log_every_n_steps", "1", "--checkpoint.every_n_train_steps", "2", "--knn.every_n_epochs", "0",
    "--diagnostics.every_n_epochs", "0", "--online_probe.enabled", "false",
]


def start(shards: Path, run_dir: Path, *extra: str) -> subprocess.Popen:
    trainer = list(RUN)
    trainer[trainer.index("--trainer.devices") + 1] = "2"
    trainer[trainer.index("--trainer.strategy") + 1] = "ddp"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-m", "infossl", "pretrain", *trainer, "--data.path", str(shards), "--run_dir", str(run_dir), *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_two_processes_two_workers_resume_from_shards_after_sigterm(shards, tmp_path) -> None:
    reference = start(shards, tmp_path / "reference")
    _, err = reference.communicate(timeout=300)
    assert reference.returncode == 0, err[-3000:]
    interrupted = start(shards, tmp_path / "interrupted", "--trainer.callbacks+=pipeline_helpers.SlowSteps", "--trainer.callbacks.seconds", "0.5")
    last = tmp_path / "interrupted" / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (last.is_file() and read_checkpoint(last)["global_step"] >= 3):
        assert interrupted.poll() is None, interrupted.stderr.read()[-3000:]
        time.sleep(0.1)
    interrupted.send_signal(signal.SIGTERM)
    _, err = interrupted.communicate(timeout=300)
    assert interrupted.returncode == 128 + signal.SIGTERM, err[-3000:]
    stopped = read_checkpoint(last)["global_step"]
    assert 3 <= stopped < 8
    # a clean stop that says where it stopped and how to go on (docs/reliability.md)
    assert "Traceback" not in err and f"stopped by SIGTERM after step {stopped};" in err
    assert "Resume with: infossl pretrain" in err and "--resume true" in err
    resumed = start(shards, tmp_path / "interrupted", "--resume", "true")
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err[-3000:]
    final, expected = read_checkpoint(last)["state_dict"], read_checkpoint(tmp_path / "reference" / "checkpoints" / "last.ckpt")["state_dict"]
    for key in expected:
        torch.testing.assert_close(final[key], expected[key], rtol=0, atol=0, msg=key)
