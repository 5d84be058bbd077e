"""Each data source loads a tiny fixture; wrong layouts fail with a clear message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from infossl.data import SSLDataModule, load_image_folder, load_npz, load_torchvision, make_shapes


def write_npz(path: Path, **overrides) -> Path:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 255, (12, 8, 8, 3), dtype=np.uint8),
        "y_train": np.arange(12) % 3,
        "x_test": rng.integers(0, 255, (6, 8, 8, 3), dtype=np.uint8),
        "y_test": np.arange(6) % 3,
        "classes": np.array(["a", "b", "c"]),
    }
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)
    return path


def test_npz_loads_train_and_test(tmp_path) -> None:
    train, test = load_npz(write_npz(tmp_path / "d.npz"))
    assert train.images.shape == (12, 3, 8, 8) and train.images.dtype == torch.uint8
    assert test.labels.tolist() == [0, 1, 2, 0, 1, 2]
    assert train.classes == ("a", "b", "c") and train.num_classes == 3
    original = np.load(tmp_path / "d.npz")["x_train"]
    assert torch.equal(train.images[3].permute(1, 2, 0), torch.from_numpy(original[3]))  # HWC -> CHW


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"x_test": None}, "'x_test' is missing"),
        ({"x_train": np.zeros((12, 8, 8, 3), dtype=np.float32)}, "'x_train' is float32"),
        ({"x_train": np.zeros((12, 8, 8), dtype=np.uint8)}, r"expected uint8 \(N, H, W, 3\)"),
        ({"y_train": np.arange(11)}, r"'y_train'.*expected integers of shape \(12,\)"),
        ({"y_test": np.array([0, 1, 2, 3, 0, 1])}, r"'y_test' has labels in \[0, 3\]; expected 0..2"),
    ],
)
def test_npz_with_a_wrong_layout_names_the_array(tmp_path, overrides, message) -> None:
    path = write_npz(tmp_path / "bad.npz", **overrides)
    with pytest.raises(ValueError, match=message):
        load_npz(path)


def test_missing_npz_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load_npz(tmp_path / "nope.npz")


def write_images(folder: Path, count: int, size: tuple[int, int] = (20, 14), mode: str = "RGB") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new(mode, size, color=(i * 40 % 255, 10, 200) if mode == "RGB" else 128).save(folder / f"{i}.png")


def test_labelled_image_folder(tmp_path) -> None:
    write_images(tmp_path / "cats", 3)
    write_images(tmp_path / "dogs", 2, mode="L")  # grayscale is converted to RGB
    data = load_image_folder(tmp_path, image_size=16)
    assert data.images.shape == (5, 3, 16, 16)
    assert data.classes == ("cats", "dogs") and data.labels.tolist() == [0, 0, 0, 1, 1]


def test_unlabelled_folder_is_recursive(tmp_path) -> None:
    write_images(tmp_path / "a" / "deep", 2)
    write_images(tmp_path / "b", 1)
    (tmp_path / "notes.txt").write_text("not an image")
    data = load_image_folder(tmp_path, image_size=8, labelled=False)
    assert data.images.shape == (3, 3, 8, 8) and data.labels is None


def test_broken_images_are_skipped_with_a_warning(tmp_path) -> None:
    write_images(tmp_path / "ok", 2)
    (tmp_path / "ok" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.warns(UserWarning, match="broken.png"):
        data = load_image_folder(tmp_path, image_size=8)
    assert len(data) == 2


def test_a_folder_too_large_for_memory_fails_before_decoding(tmp_path, monkeypatch) -> None:
    import infossl.data.sources as sources

    write_images(tmp_path / "cats", 4)
    decoded = []
    monkeypatch.setattr(sources, "decode_image", lambda path, size: decoded.append(path) or np.zeros((size, size, 3), np.uint8))
    # 4 images of 3 x 256 x 256 bytes need 786,432 bytes; leave less than that
    monkeypatch.setattr(sources, "available_memory_bytes", lambda: 700_000)
    with pytest.raises(ValueError, match=r"4 images at 256x256 .* needs about 0\.0 GiB.*data.in_memory false"):
        load_image_folder(tmp_path, image_size=256)
    assert decoded == []  # refused before any work
    monkeypatch.setattr(sources, "available_memory_bytes", lambda: None)  # where the system cannot tell: try
    assert load_image_folder(tmp_path, image_size=256).images.shape == (4, 3, 256, 256) and len(decoded) == 4


@pytest.mark.parametrize("labelled", [True, False])
def test_empty_folder_is_a_clear_error(tmp_path, labelled) -> None:
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ValueError, match="no image files|sub-folder"):
        load_image_folder(tmp_path / "empty_class", image_size=8, labelled=labelled)


def test_torchvision_source_without_download_names_the_fix(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="add --data.download true"):
        load_torchvision("cifar10", tmp_path, download=False)


def test_synthetic_shapes_are_balanced_and_seeded() -> None:
    a, b = make_shapes(50, seed=3), make_shapes(50, seed=3)
    assert torch.equal(a.images, b.images)
    assert torch.bincount(a.labels).tolist() == [10] * 5
    # colour carries no class information: mean colours overlap across classes
    means = torch.stack([a.images[a.labels == c].float().mean() for c in range(5)])
    assert (means.max() - means.min()) < 40


def test_datamodule_splits_a_single_labelled_folder(tmp_path) -> None:
    write_images(tmp_path / "x", 8)
    write_images(tmp_path / "y", 12)
    dm = SSLDataModule(source="image_folder", path=str(tmp_path), image_size=8, batch_size=4, val_fraction=0.25)
    dm.setup("fit")
    assert len(dm.train_set) == 15 and len(dm.val_set) == 5
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (4, 3, 8, 8) and images.dtype == torch.uint8


def test_datamodule_batch_larger_than_data_is_an_error() -> None:
    from infossl.data import SyntheticConfig

    dm = SSLDataModule(batch_size=128, synthetic=SyntheticConfig(train_size=64, test_size=8))
    with pytest.raises(ValueError, match="batch_size=128 is larger than the 64"):
        dm.setup("fit")


def write_torchvision_cifar10(root, train_per_batch: int = 16, test: int = 32) -> None:
    """A small CIFAR-10 in torchvision's own layout (cifar-10-batches-py, pickled batches)."""
    import pickle

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    generator = np.random.default_rng(0)

    def batch(n: int) -> dict:
        return {"data": generator.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8), "labels": list(generator.integers(0, 10, n))}

    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        (folder / name).write_bytes(pickle.dumps(batch(train_per_batch)))
    (folder / "test_batch").write_bytes(pickle.dumps(batch(test)))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"class{i}" for i in range(10)]}))


def test_the_readme_torchvision_command_trains_on_cifar10_in_torchvisions_layout(tmp_path, monkeypatch) -> None:
    # no network here: a generated copy stands in for the download; torchvision's md5 check
    # of the real files becomes an existence check, so a missing file still fails
    import os

    import torchvision.datasets.cifar

    from infossl.cli.pretrain import pretrain
    from pipeline_helpers import CPU_TRAINER

    write_torchvision_cifar10(tmp_path / "data")
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path))
    cli = pretrain([
        "--config", "cifar10_cpu/imsvd.yaml", "--data.source", "cifar10", "--data.path", str(tmp_path / "data"),
        "--data.download", "true", *CPU_TRAINER, "--data.batch_size", "16", "--trainer.max_steps", "2",
        "--model.backbone.widths", "[8,16,16,16]", "--knn.every_n_epochs", "0", "--run_dir", str(tmp_path / "run"),
    ])
    assert cli.trainer.global_step == 2
    assert len(cli.datamodule.train_set) == 80 and len(cli.datamodule.val_set) == 32 and cli.datamodule.num_classes == 10
    assert cli.datamodule.train_set.classes[0] == "class0"
