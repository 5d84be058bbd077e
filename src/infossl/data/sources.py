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

from infossl.errors import InputError, MissingPathError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"}


class ImageCollection:
    """What every image source offers: ``len``, ``labels`` (or None), ``classes``,
    ``get(index)`` (uint8 images), ``subset(index)`` and ``image_size``."""

    labels: Tensor | None
    classes: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        if self.labels is None:
            return 0
        return max(len(self.classes), int(self.labels.max()) + 1) if len(self.labels) else len(self.classes)

    def batches(self, size: int):
        """(images, labels or None) in order, ``size`` at a time."""
        for start in range(0, len(self), size):  # type: ignore[arg-type]
            index = torch.arange(start, min(start + size, len(self)))  # type: ignore[arg-type]
            yield self.get(index), None if self.labels is None else self.labels[index]  # type: ignore[attr-defined]


@dataclass
class ImageSet(ImageCollection):
    """uint8 images (N, 3, H, W), optional int64 labels (N,) and class names."""

    images: Tensor
    labels: Tensor | None = None
    classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4 or self.images.shape[1] != 3:
            raise InputError(f"ImageSet expects uint8 images of shape (N, 3, H, W); got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels is not None and self.labels.shape != (self.images.shape[0],):
            raise InputError(f"ImageSet: labels of shape {tuple(self.labels.shape)} for {self.images.shape[0]} images")

    def __len__(self) -> int:
        return self.images.shape[0]

    def subset(self, index: Tensor) -> ImageSet:
        labels = None if self.labels is None else self.labels[index]
        return ImageSet(self.images[index], labels, self.classes)

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    def get(self, index: Tensor) -> Tensor:
        """uint8 images (len(index), 3, H, W)."""
        return self.images[index]


NPZ_LAYOUT = (
    "x_train uint8 (N, H, W, 3), y_train int (N,), x_test uint8 (M, H, W, 3), y_test int (M,), "
    "optional classes str (C,)"
)


def _npz_images(archive: np.lib.npyio.NpzFile, key: str, path: Path) -> Tensor:
    if key not in archive.files:
        raise InputError(f"{path}: array {key!r} is missing (has {sorted(archive.files)}); expected layout: {NPZ_LAYOUT}")
    x = archive[key]
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
        raise InputError(f"{path}: array {key!r} is {x.dtype} {x.shape}; expected uint8 (N, H, W, 3). Layout: {NPZ_LAYOUT}")
    return torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).contiguous()


def _npz_labels(archive: np.lib.npyio.NpzFile, key: str, n: int, num_classes: int | None, path: Path) -> Tensor:
    if key not in archive.files:
        raise InputError(f"{path}: array {key!r} is missing (has {sorted(archive.files)}); expected layout: {NPZ_LAYOUT}")
    y = archive[key]
    if not np.issubdtype(y.dtype, np.integer) or y.shape != (n,):
        raise InputError(f"{path}: array {key!r} is {y.dtype} {y.shape}; expected integers of shape ({n},)")
    if n and (y.min() < 0 or (num_classes is not None and y.max() >= num_classes)):
        raise InputError(
            f"{path}: array {key!r} has labels in [{y.min()}, {y.max()}]; expected 0..{(num_classes or 1) - 1}"
        )
    return torch.from_numpy(y.astype(np.int64))


def load_npz(path: str | Path) -> tuple[ImageSet, ImageSet]:
    """Train and test splits of an npz file in the layout of CIFAR-10's (see NPZ_LAYOUT)."""
    path = Path(path)
    if not path.is_file():
        raise MissingPathError(
            f"npz file not found: {path} (data.path). Point --data.path at your copy (layout: {NPZ_LAYOUT}), "
            f"or use torchvision's CIFAR-10 instead: --data.source cifar10 --data.path DIR --data.download true "
            f"(downloads once into DIR; needs network)"
        )
    with np.load(path, allow_pickle=False) as archive:
        classes = tuple(str(c) for c in archive["classes"]) if "classes" in archive.files else ()
        num_classes = len(classes) or None
        splits = []
        for split in ("train", "test"):
            images = _npz_images(archive, f"x_{split}", path)
            labels = _npz_labels(archive, f"y_{split}", images.shape[0], num_classes, path)
            splits.append(ImageSet(images, labels, classes))
    return splits[0], splits[1]


def _to_rgb(img):
    """Any PIL mode as 8-bit RGB: 16-bit and 32-bit integer images are rescaled (PIL's
    own conversion would clip them), alpha is dropped as torchvision's loader does."""
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        array = np.asarray(img, dtype=np.int64)
        peak = 65535 if img.mode.startswith("I;16") or array.max() > 255 else 255
        array = (np.clip(array, 0, peak) * 255 // peak).astype(np.uint8)
        return Image.fromarray(array, mode="L").convert("RGB")
    if img.mode == "F":
        return Image.fromarray(np.clip(np.asarray(img), 0, 255).astype(np.uint8), mode="L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return img.convert("RGB") if img.mode != "RGB" else img


def decode_image(path: Path, size: int) -> np.ndarray:
    """RGB uint8 (size, size, 3): shorter side resized to ``size``, centre crop.
    Raises ``ValueError`` naming the file when it cannot be decoded."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            img.load()  # decode fully now: truncated files fail here, not later
            img = _to_rgb(img).copy()
    except Exception as error:  # PIL raises many types for broken files
        reason = "empty file" if path.is_file() and path.stat().st_size == 0 else f"{type(error).__name__}: {error}"
        raise InputError(f"{path}: {reason}") from error
    img = ImageOps.fit(img, (size, size), method=Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.uint8)


def verify_image(path: Path) -> str | None:
    """Cheap start-up check (header and structure, no full decode): the reason it
    is broken, or None."""
    from PIL import Image

    if path.stat().st_size == 0:
        return "empty file"
    try:
        with Image.open(path) as img:
            img.verify()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def _image_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def scan_image_folder(root: str | Path, labelled: bool = True) -> tuple[list[tuple[Path, int]], tuple[str, ...]]:
    """Image files below ``root`` with their class index (-1 when unlabelled) and the class names."""
    root = Path(root)
    if not root.is_dir():
        raise MissingPathError(f"image folder not found: {root}")
    if labelled:
        class_dirs = sorted(d for d in root.iterdir() if d.is_dir())
        if not class_dirs:
            raise InputError(f"{root}: expected one sub-folder per class, found none")
        files = [(f, c) for c, d in enumerate(class_dirs) for f in _image_files(d)]
        classes = tuple(d.name for d in class_dirs)
    else:
        files = [(f, -1) for f in _image_files(root)]
        classes = ()
    if not files:
        raise InputError(f"{root}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) found")
    return files, classes


def report_broken(root: Path, broken: list[str], total: int, strict: bool) -> None:
    """Fail (``strict``) or warn once, listing every broken file."""
    if not broken:
        return
    listing = "\n  ".join(broken)
    if strict or len(broken) == total:
        why = "data.strict is set" if strict else "no image could be decoded"
        raise InputError(f"{root}: {len(broken)} of {total} image files are broken ({why}):\n  {listing}")
    warnings.warn(f"{root}: skipping {len(broken)} of {total} image files that cannot be decoded:\n  {listing}", stacklevel=3)


def load_image_folder(root: str | Path, image_size: int, labelled: bool = True, strict: bool = False) -> ImageSet:
    """Images under ``root``, decoded once at start-up and resized to ``image_size``.

    ``labelled``: one sub-folder per class (the class is the sub-folder name);
    otherwise every image below ``root`` (recursive), without labels. Grayscale,
    RGBA, palette and 16-bit images are converted to 8-bit RGB; files that cannot
    be decoded are skipped with one warning listing them, or fail here when
    ``strict``.
    """
    files, classes = scan_image_folder(root, labelled)
    check_memory(root, len(files), image_size)
    # decoded straight into one preallocated array: the peak is the data set's size, not twice it
    images = np.empty((len(files), 3, image_size, image_size), dtype=np.uint8)
    labels, broken, count = [], [], 0
    for path, label in files:
        try:
            images[count] = decode_image(path, image_size).transpose(2, 0, 1)
            labels.append(label)
            count += 1
        except ValueError as error:
            broken.append(str(error))
    report_broken(Path(root), broken, len(files), strict)
    return ImageSet(torch.from_numpy(images[:count]), torch.tensor(labels, dtype=torch.int64) if labelled else None, classes)


def available_memory_bytes() -> int | None:
    """The memory the system can still give (MemAvailable), or None where it cannot tell."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(root: str | Path, count: int, image_size: int, share: float = 0.8) -> None:
    """Refuse, before decoding anything, to load a folder that would not fit in memory."""
    needed = count * 3 * image_size * image_size
    available = available_memory_bytes()
    if available is not None and needed > share * available:
        raise InputError(
            f"{root}: decoding its {count:,} images at {image_size}x{image_size} into memory needs about "
            f"{needed / 2**30:.1f} GiB, and {available / 2**30:.1f} GiB are available; set data.in_memory false to "
            "read and decode them from the folder while training (or lower data.image_size)"
        )


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
        raise MissingPathError(
            f"{name} not found under {root} ({error}); add --data.download true to download it there "
            f"(needs network), or point --data.path at the folder that holds it"
        ) from error
    raise InputError(f"unknown torchvision data set {name!r}; expected cifar10, cifar100 or stl10")
