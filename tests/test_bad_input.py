"""Bad images and bad configurations: converted, skipped or refused at start-up, with the file or key named."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from infossl.cli.errors import ConfigError
from infossl.cli.main import main
from infossl.cli.pretrain import build_cli, check_before_fit, pretrain
from infossl.data.lazy_folder import FolderImages
from infossl.data.sources import load_image_folder

from pipeline_helpers import CPU_TRAINER, TINY_DATA, run_args

BROKEN = ("truncated.jpg", "empty.png", "text.png")


def image_zoo(root: Path) -> Path:
    """One class folder with every kind of file a real data set contains."""
    folder = root / "things"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(folder / f"good{i}.png")
    Image.new("L", (24, 24), 90).save(folder / "gray.png")
    Image.new("RGBA", (24, 24), (10, 200, 30, 0)).save(folder / "rgba.png")
    Image.fromarray(np.full((24, 24), 65535, dtype=np.uint16)).save(folder / "white16.png")
    Image.fromarray(np.full((24, 24), 32896, dtype=np.uint16)).save(folder / "mid16.png")  # 128 * 257
    palette = Image.new("P", (24, 24), 1)
    palette.putpalette([0, 0, 0, 250, 20, 20] + [0] * 762)
    palette.info["transparency"] = 0
    palette.save(folder / "palette.png", transparency=0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, format="JPEG")
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.png").write_text("this is not an image")
    return root


def pixel(data, name: str, folder: Path) -> torch.Tensor:
    names = sorted(p.name for p in (folder / "things").iterdir() if p.name not in BROKEN)
    return data.images[names.index(name)]


def test_convertible_images_are_converted_and_broken_ones_listed_in_one_warning(tmp_path) -> None:
    root = image_zoo(tmp_path)
    with pytest.warns(UserWarning) as caught:
        data = load_image_folder(root, image_size=16)
    messages = [str(w.message) for w in caught if "skipping" in str(w.message)]
    assert len(messages) == 1 and "3 of 14" in messages[0]
    assert all(name in messages[0] for name in BROKEN)
    assert "empty file" in messages[0]
    assert data.images.shape == (11, 3, 16, 16) and data.images.dtype == torch.uint8
    assert torch.all(pixel(data, "white16.png", root) == 255)  # 16-bit rescaled, not clipped
    assert torch.all(pixel(data, "mid16.png", root) == 128)
    assert torch.all(pixel(data, "gray.png", root) == 90)
    assert pixel(data, "palette.png", root)[:, 8, 8].tolist() == [250, 20, 20]
    assert pixel(data, "rgba.png", root)[:, 8, 8].tolist() == [10, 200, 30]


def test_strict_mode_fails_at_start_up_listing_every_broken_file(tmp_path) -> None:
    root = image_zoo(tmp_path)
    with pytest.raises(ValueError, match="3 of 14 image files are broken") as error:
        load_image_folder(root, image_size=16, strict=True)
    assert all(name in str(error.value) for name in BROKEN)


def test_lazy_folder_checks_headers_at_start_up_and_skips_late_failures(tmp_path) -> None:
    root = image_zoo(tmp_path)
    with pytest.warns(UserWarning, match="skipping 2 of 14") as caught:
        data = FolderImages.scan(root, image_size=16)
    assert "empty.png" in str(caught[0].message) and "text.png" in str(caught[0].message)
    assert len(data) == 12  # the truncated JPEG passes the header check
    with pytest.warns(UserWarning, match="truncated.jpg"):
        batches = list(data.batches(5))
    assert sum(len(images) for images, _ in batches) == 12  # replaced, never a crash
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per file
        list(data.batches(5))
    with pytest.raises(ValueError, match="text.png"):
        FolderImages.scan(root, image_size=16, strict=True)


@pytest.mark.parametrize("in_memory", ["true", "false"])
def test_training_on_a_folder_with_broken_files(tmp_path, in_memory) -> None:
    root = image_zoo(tmp_path / "data")
    args = [
        "--config", "quickstart/imsvd.yaml", *CPU_TRAINER, *run_args(tmp_path / "run"),
        "--data.source", "unlabeled_folder", "--data.path", str(root), "--data.image_size", "16",
        "--data.in_memory", in_memory, "--data.batch_size", "4", "--data.augment.image_size", "16",
        "--model.backbone.widths", "[8, 8, 8, 8]", "--trainer.max_steps", "4",
        "--knn.every_n_epochs", "0", "--diagnostics.every_n_epochs", "0",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cli = pretrain(args)
    assert cli.trainer.global_step == 4
    with pytest.raises(ValueError, match="data.strict is set"):
        pretrain([*args, "--data.strict", "true", "--run_dir", str(tmp_path / "strict")])
    assert not (tmp_path / "strict" / "checkpoints").exists()


BASE = ["--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER]


def test_batch_not_divisible_across_processes_is_refused_before_training(tmp_path) -> None:
    cli = build_cli([*BASE, *run_args(tmp_path), "--trainer.devices", "3", "--trainer.strategy", "ddp", "--data.batch_size", "16"])
    with pytest.raises(ConfigError, match=r"data.batch_size=16 is not divisible by the 3 processes"):
        check_before_fit(cli)


@pytest.fixture(scope="module")
def imsvd_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("imsvd")
    pretrain([*BASE, *run_args(run_dir), "--trainer.max_steps", "2", "--model.backbone.widths", "[8, 8, 8, 8]"])
    return run_dir


@pytest.mark.parametrize(
    ("override", "field"),
    [
        (["--model.method", "infossl.methods.SimCLR"], "model.method 'imsvd'"),
        (["--model.backbone.widths", "[8, 8, 8, 16]"], "model.backbone"),
    ],
)
def test_resuming_another_method_or_backbone_names_the_field(imsvd_run, override, field, capsys) -> None:
    args = ["pretrain", *BASE, "--run_dir", str(imsvd_run), "--resume", "true", "--model.backbone.widths", "[8, 8, 8, 8]", *override]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and field in err


def test_eval_of_a_checkpoint_whose_weights_do_not_match_its_backbone(imsvd_run, tmp_path, capsys) -> None:
    checkpoint = torch.load(imsvd_run / "checkpoints" / "last.ckpt", weights_only=True)
    checkpoint["infossl"]["backbone"]["widths"] = [8, 8, 8, 16]
    tampered = tmp_path / "tampered.ckpt"
    torch.save(checkpoint, tampered)
    npz = tmp_path / "d.npz"
    x = np.zeros((20, 32, 32, 3), np.uint8)
    np.savez(npz, x_train=x, y_train=np.arange(20) % 2, x_test=x[:10], y_test=np.arange(10) % 2)
    assert main(["eval", str(tampered), "--data", str(npz)]) == 2
    assert "do not match its recorded backbone" in capsys.readouterr().err
