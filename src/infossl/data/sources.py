"""Image sources, decoded once into an in-memory uint8 tensor (N, 3, H, W).

Labels (when the source has them) are only used for evaluation and monitors.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"}


@dataclass
class ImageSet:
    """uint8 images (N, 3, H, W), optional int64 labels (N,) and class names."""

    images: Tensor
    labels: Tensor | None = None
    classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4 or self.images.shape[1] != 3:
            raise ValueError(f"ImageSet expects uint8 images of shape (N, 3, H, W); got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels is not None and self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"ImageSet: labels of shape {tuple(self.labels.shape)} for {self.images.shape[0]} images")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def num_classes(self) -> int:
        if self.labels is None:
            return 0
        return max(len(self.classes), int(self.labels.max()) + 1) if len(self.labels) else len(self.classes)

    def subset(self, index: Tensor) -> ImageSet:
        labels = None if self.labels is None else self.labels[index]
        return ImageSet(self.images[index], labels, self.classes)


NPZ_LAYOUT = (
    "x_train uint8 (N, H, W, 3), y_train int (N,), x_test uint8 (M, H, W, 3), y_test int (M,), "
    "optional classes str (C,)"
)


def _npz_images(archive: np.lib.npyio.NpzFile, key: str, path: Path) -> Tensor:
    if key not in archive.files:
        raise ValueError(f"{path}: array {key!r} is missing (has {sorted(archive.files)}); expected layout: {NPZ_LAYOUT}")
    x = archive[key]
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"{path}: array {key!r} is {x.dtype} {x.shape}; expected uint8 (N, H, W, 3). Layout: {NPZ_LAYOUT}")
    return torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).contiguous()


def _npz_labels(archive: np.lib.npyio.NpzFile, key: str, n: int, num_classes: int | None, path: Path) -> Tensor:
    if key not in archive.files:
        raise ValueError(f"{path}: array {key!r} is missing (has {sorted(archive.files)}); expected layout: {NPZ_LAYOUT}")
    y = archive[key]
    if not np.issubdtype(y.dtype, np.integer) or y.shape != (n,):
        raise ValueError(f"{path}: array {key!r} is {y.dtype} {y.shape}; expected integers of shape ({n},)")
    if n and (y.min() < 0 or (num_classes is not None and y.max() >= num_classes)):
        raise ValueError(
            f"{path}: array {key!r} has labels in [{y.min()}, {y.max()}]; expected 0..{(num_classes or 1) - 1}"
        )
    return torch.from_numpy(y.astype(np.int64))


def load_npz(path: str | Path) -> tuple[ImageSet, ImageSet]:
    """Train and test splits of an npz file in the layout of CIFAR-10's (see NPZ_LAYOUT)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"npz file not found: {path}")
    with np.load(path, allow_pickle=False) as archive:
        classes = tuple(str(c) for c in archive["classes"]) if "classes" in archive.files else ()
        num_classes = len(classes) or None
        splits = []
        for split in ("train", "test"):
            images = _npz_images(archive, f"x_{split}", path)
            labels = _npz_labels(archive, f"y_{split}", images.shape[0], num_classes, path)
            splits.append(ImageSet(images, labels, classes))
    return splits[0], splits[1]


def _decode(path: Path, size: int) -> np.ndarray | None:
    """RGB uint8 (size, size, 3): shorter side resized to ``size``, centre crop."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            img = img.convert("RGB") if img.mode != "RGB" else img.copy()
    except Exception as error:  # PIL raises many types for broken files
        warnings.warn(f"skipping unreadable image {path}: {error}", stacklevel=3)
        return None
    img = ImageOps.fit(img, (size, size), method=Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.uint8)


def _image_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def load_image_folder(root: str | Path, image_size: int, labelled: bool = True) -> ImageSet:
    """Images under ``root``, decoded once and resized to ``image_size``.

    ``labelled``: one sub-folder per class (the class is the sub-folder name);
    otherwise every image below ``root`` (recursive), without labels.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    if labelled:
        class_dirs = sorted(d for d in root.iterdir() if d.is_dir())
        if not class_dirs:
            raise ValueError(f"{root}: expected one sub-folder per class, found none")
        files = [(f, c) for c, d in enumerate(class_dirs) for f in _image_files(d)]
        classes = tuple(d.name for d in class_dirs)
    else:
        files = [(f, -1) for f in _image_files(root)]
        classes = ()
    if not files:
        raise ValueError(f"{root}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) found")
    decoded = [(_decode(f, image_size), c) for f, c in files]
    kept = [(a, c) for a, c in decoded if a is not None]
    if not kept:
        raise ValueError(f"{root}: none of the {len(files)} image files could be decoded")
    images = torch.from_numpy(np.stack([a for a, _ in kept])).permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor([c for _, c in kept], dtype=torch.int64) if labelled else None
    return ImageSet(images, labels, classes)


def load_torchvision(name: str, root: str | Path, download: bool) -> tuple[ImageSet, ImageSet]:
    """CIFAR-10/100 or STL-10 through torchvision (``download`` needs network)."""
    import torchvision.datasets as tvd

    root = Path(root)
    try:
        if name in ("cifar10", "cifar100"):
            cls = tvd.CIFAR10 if name == "cifar10" else tvd.CIFAR100
            parts = [cls(str(root), train=train, download=download) for train in (True, False)]
            return tuple(  # type: ignore[return-value]
                ImageSet(
                    torch.from_numpy(p.data).permute(0, 3, 1, 2).contiguous(),
                    torch.tensor(p.targets, dtype=torch.int64),
                    tuple(p.classes),
                )
                for p in parts
            )
        if name == "stl10":
            parts = [tvd.STL10(str(root), split=s, download=download) for s in ("train+unlabeled", "test")]
            train, test = parts
            # unlabeled images carry label -1: labels are kept only for the labelled part
            return (
                ImageSet(torch.from_numpy(train.data), None, tuple(train.classes)),
                ImageSet(torch.from_numpy(test.data), torch.from_numpy(test.labels.astype(np.int64)), tuple(test.classes)),
            )
    except RuntimeError as error:  # torchvision: "Dataset not found or corrupted"
        raise FileNotFoundError(f"{name} not found under {root} ({error}); set data.download=true if you have network") from error
    raise ValueError(f"unknown torchvision data set {name!r}; expected cifar10, cifar100 or stl10")
