"""Evaluation splits and frozen-backbone features, computed once and cached.

Features are cached next to the checkpoint, in ``<checkpoint>.features/``, one
file per split, keyed by the checkpoint file (size and modification time) and
a fingerprint of the images, so a retrained checkpoint or changed data are
never served stale features.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from infossl.data.sources import ImageSet, load_image_folder, load_npz
from infossl.errors import InputError


@dataclass
class EvalSplits:
    """Labelled train (memory bank, probe training) and test splits."""

    train: ImageSet
    test: ImageSet
    description: str


def _check_labelled(data: ImageSet, name: str) -> None:
    if data.labels is None:
        raise InputError(f"{name} has no labels; evaluation needs labelled train and test splits")
    if len(data) == 0:
        raise InputError(f"{name} is empty")


def load_eval_splits(
    data: str | Path | None = None,
    image_size: int | None = None,
    train: str | Path | None = None,
    test: str | Path | None = None,
    split_fraction: float = 0.2,
    seed: int = 0,
) -> EvalSplits:
    """Train and test splits from an npz file (its x_train/x_test arrays), from
    ``train`` and ``test`` labelled image folders, or from one labelled folder
    ``data`` split with ``split_fraction`` held out as test (seeded).
    Image folders are decoded at ``image_size`` (the checkpoint's)."""
    if train is not None or test is not None:
        if train is None or test is None or data is not None:
            raise InputError("give either --data, or both --train and --test labelled image folders")
        if image_size is None:
            raise InputError("image folders need an image size (the checkpoint records none)")
        splits = EvalSplits(
            load_image_folder(train, image_size, labelled=True),
            load_image_folder(test, image_size, labelled=True),
            f"train {train}, test {test}",
        )
    elif data is None:
        raise InputError("no evaluation data: give --data (npz or labelled folder) or --train and --test")
    else:
        path = Path(data)
        if path.suffix == ".npz" or path.is_file():
            train_set, test_set = load_npz(path)
            splits = EvalSplits(train_set, test_set, f"{path} (x_train / x_test)")
        else:
            if not 0.0 < split_fraction < 1.0:
                raise InputError(f"--split_fraction must be in (0, 1), got {split_fraction}")
            if image_size is None:
                raise InputError("image folders need an image size (the checkpoint records none)")
            everything = load_image_folder(path, image_size, labelled=True)
            order = torch.randperm(len(everything), generator=torch.Generator().manual_seed(seed))
            n_test = max(1, int(round(split_fraction * len(everything))))
            splits = EvalSplits(
                everything.subset(order[n_test:]),
                everything.subset(order[:n_test]),
                f"{path} ({split_fraction:g} held out as test, seed {seed})",
            )
    _check_labelled(splits.train, "the train split")
    _check_labelled(splits.test, "the test split")
    return splits


def check_image_size(data: ImageSet, expected: int | None, name: str, resize: bool) -> None:
    """An encoder trained at ``expected`` pixels only sees other sizes when asked to."""
    size = tuple(data.images.shape[-2:])
    if expected is None or resize or size == (expected, expected):
        return
    raise InputError(
        f"{name} has {size[0]}x{size[1]} images but the checkpoint was trained on {expected}x{expected}; "
        f"pass --resize to resize them (features of resized images are not comparable to published numbers)"
    )


def _fingerprint(images: Tensor) -> str:
    """A cheap content hash: shape plus a strided sample of the pixels."""
    flat = images.reshape(-1)
    step = max(1, flat.numel() // 1_000_000)
    digest = hashlib.sha1(str(tuple(images.shape)).encode())
    digest.update(flat[::step].contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


@torch.no_grad()
def encode_images(
    encoder: nn.Module, images: Tensor, batch_size: int = 512, device: str | torch.device = "cpu", desc: str = "features"
) -> Tensor:
    """Features (N, feature_dim) of uint8 images, batched, without augmentation."""
    from tqdm.auto import tqdm

    encoder = encoder.to(device).eval()
    batches = torch.split(images, batch_size)
    out = [encoder(batch.to(device)).float().cpu() for batch in tqdm(batches, desc=desc, unit="batch", leave=False)]
    return torch.cat(out) if out else torch.empty(0)


def cached_features(
    encoder: nn.Module,
    checkpoint: str | Path,
    data: ImageSet,
    split: str,
    batch_size: int = 512,
    device: str | torch.device = "cpu",
    use_cache: bool = True,
    variant: str = "",
) -> Tensor:
    """Features of ``data`` by ``encoder``, cached in ``<checkpoint>.features/``;
    ``variant`` tells apart encoders built from the same file in different ways
    (plain weights with another backbone description or preprocessing)."""
    checkpoint = Path(checkpoint)
    stat = checkpoint.stat()
    stamp = f"{stat.st_size}-{stat.st_mtime_ns}"
    key = f"{split}-{_fingerprint(data.images)}{'-' + variant if variant else ''}-{stamp}"
    cache = checkpoint.parent / f"{checkpoint.name}.features" / f"{key}.pt"
    if use_cache and cache.is_file():
        features = torch.load(cache, map_location="cpu", weights_only=True)
        if features.shape[0] == len(data):
            return features
    features = encode_images(encoder, data.images, batch_size, device, desc=f"{split} features")
    if use_cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        for stale in cache.parent.glob("*.pt"):  # features of an overwritten checkpoint
            if not stale.stem.endswith(stamp):
                stale.unlink()
        temporary = cache.with_suffix(".tmp")
        torch.save(features, temporary)
        temporary.replace(cache)
    return features
