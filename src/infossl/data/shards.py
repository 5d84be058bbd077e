"""Streaming shards for image sets too large for memory, with Lightning's litdata.

``infossl prepare SRC OUT`` (:func:`prepare_shards`) writes litdata chunks of JPEG-encoded
images, each resized once so that its shorter side is ``image_size``, with their labels;
files that cannot be decoded are skipped with a warning naming them. The ``litdata`` data
source reads them with litdata's streaming dataset and loader (:class:`ShardViews`): shards
are split across processes and nodes, shuffled, and a loader's position is part of its
state, so a run resumes mid-epoch. Loader workers decode each image once and cut every
view's random resized crop at its output size (images differ in size, so crops are made
before batching); colour, blur and solarization stay batched on the training device.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import multiprocessing
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from litdata import StreamingDataset
from torch import Tensor

from infossl.data.sources import _to_rgb, scan_image_folder
from infossl.errors import InputError

#: what ``prepare_shards`` writes beside the chunks
SUMMARY = "infossl_prepare.json"
#: evaluation crops keep this fraction of the shorter side (224 of 256, as torchvision's and timm's ImageNet evaluation)
EVAL_CROP_FRACTION = 0.875


def _encode(item: tuple[int, str, int], image_size: int, quality: int, broken_dir: str) -> Iterator[dict[str, Any]]:
    """One source file as a shard item, or nothing when it cannot be decoded (noted in ``broken_dir``)."""
    from PIL import Image

    index, path, label = item
    try:
        with Image.open(path) as img:
            img.load()
            img = _to_rgb(img)
        scale = image_size / min(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.BICUBIC)
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=quality)
    except Exception as error:  # PIL raises many types for broken files
        with open(Path(broken_dir) / f"{os.getpid()}.txt", "a") as notes:
            notes.write(f"{path}: {type(error).__name__}: {error}\n")
        return
    yield {"index": index, "image": buffer.getvalue(), "label": label}


def prepare_shards(
    source: str | Path,
    output: str | Path,
    image_size: int = 256,
    labelled: bool = True,
    num_workers: int | None = None,
    quality: int = 95,
    chunk_bytes: str = "64MB",
) -> dict[str, Any]:
    """Convert an image folder (one sub-folder per class, or any images when not ``labelled``)
    into litdata chunks in ``output``; returns (and writes as ``output/infossl_prepare.json``)
    what was written and which files were skipped."""
    from litdata import optimize

    if image_size < 8:
        raise InputError(f"--image_size must be at least 8, got {image_size}")
    output = Path(output)
    if output.exists() and any(output.iterdir()):
        raise InputError(f"{output} is not empty: prepare writes into a new or empty folder")
    files, classes = scan_image_folder(source, labelled)
    inputs = [(i, str(path), label) for i, (path, label) in enumerate(files)]
    workers = max(1, min(num_workers or os.cpu_count() or 1, len(inputs)))
    # litdata's optimize sets the process-wide start method to "spawn" (force=True) and leaves it
    # so; every DataLoader started later in this process would then spawn its workers (seconds
    # each instead of a fork), so the method in force before is restored afterwards
    with tempfile.TemporaryDirectory() as broken_dir, _restored_start_method():
        optimize(
            fn=functools.partial(_encode, image_size=image_size, quality=quality, broken_dir=broken_dir),
            inputs=inputs, output_dir=str(output), chunk_bytes=chunk_bytes, num_workers=workers,
            mode="overwrite", verbose=False,
        )
        broken = sorted(line.strip() for notes in Path(broken_dir).glob("*.txt") for line in notes.read_text().splitlines())
    written = _items_in(output)
    if written != len(files) - len(broken):  # a worker that died writes nothing and says nothing
        raise RuntimeError(f"prepare wrote {written} items to {output}, expected {len(files) - len(broken)}: a worker failed")
    if len(broken) == len(files):
        raise InputError(f"{source}: none of its {len(files)} image files could be decoded:\n  " + "\n  ".join(broken))
    if broken:
        warnings.warn(f"{source}: skipped {len(broken)} of {len(files)} image files that cannot be decoded:\n  " + "\n  ".join(broken), stacklevel=2)
    summary = {"source": str(source), "images": len(files) - len(broken), "skipped": broken, "image_size": image_size,
               "labelled": labelled, "classes": list(classes), "jpeg_quality": quality}
    (output / SUMMARY).write_text(json.dumps(summary, indent=1) + "\n")
    return summary


@contextlib.contextmanager
def _restored_start_method() -> Iterator[None]:
    before = multiprocessing.get_start_method(allow_none=True)
    try:
        yield
    finally:
        multiprocessing.set_start_method(before, force=True)


def _items_in(output: Path) -> int:
    index = output / "index.json"
    if not index.is_file():
        return 0
    return sum(chunk.get("chunk_size", 0) for chunk in json.loads(index.read_text()).get("chunks", []))


def read_summary(path: str | Path) -> dict[str, Any]:
    summary = Path(path) / SUMMARY
    if not summary.is_file():
        raise InputError(f"{path}: no {SUMMARY}; write the shards with `infossl prepare SRC {path}`")
    return json.loads(summary.read_text())


def crop_box(height: int, width: int, scale: Sequence[float], ratio: Sequence[float], generator: torch.Generator) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a random resized crop: an area fraction in ``scale`` and an
    aspect ratio in ``ratio`` (log-uniform), up to 10 tries, else the largest centred crop of
    an allowed ratio (torchvision's algorithm, with an explicit generator)."""
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        u = torch.rand(4, generator=generator).tolist()
        target = area * (scale[0] + (scale[1] - scale[0]) * u[0])
        aspect = math.exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * u[1])
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return int(u[2] * (height - h + 1)), int(u[3] * (width - w + 1)), h, w
    aspect = width / height
    if aspect < ratio[0]:
        w, h = width, round(width / ratio[0])
    elif aspect > ratio[1]:
        h, w = height, round(height * ratio[1])
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def decode(data: bytes) -> Tensor:
    """JPEG bytes as a uint8 (3, H, W) tensor."""
    from PIL import Image
    from torchvision.transforms.v2.functional import pil_to_tensor

    with Image.open(io.BytesIO(data)) as img:
        return pil_to_tensor(img.convert("RGB"))


class ShardViews(StreamingDataset):
    """Shard items as ``(views, label)``: the image decoded once, then one random resized
    crop per view (``views``: each view's crop scale and output size), drawn from
    (seed, epoch, image index, view) so that a resumed run cuts the same crops. With
    ``views=None``: the evaluation view, the image resized to a shorter side of ``size / 0.875``
    and centre-cropped to ``size`` x ``size``."""

    def __init__(self, path: str | Path, size: int, views: Sequence[tuple[Sequence[float], int]] | None, seed: int, train: bool) -> None:
        # a local folder must hold shards (a clear error otherwise); a URL is read by litdata
        summary = read_summary(path) if "://" not in str(path) else {}
        super().__init__(input_dir=str(path), shuffle=train, drop_last=train, seed=seed)
        self.size, self.views, self.crop_seed = size, views, seed
        self.num_classes = len(summary.get("classes") or [])

    @property
    def image_size(self) -> int:
        return self.size

    def __getitem__(self, index: Any) -> tuple[Any, int]:
        from torchvision.transforms.v2 import functional as F

        item = super().__getitem__(index)
        image = decode(item["image"])
        if self.views is None:  # the usual evaluation view: shorter side size / 0.875, centre crop
            image = F.resize(image, [round(self.size / EVAL_CROP_FRACTION)], antialias=True)
            return F.center_crop(image, [self.size, self.size]), item["label"]
        generator = torch.Generator().manual_seed(hash((self.crop_seed, self.current_epoch, item["index"])) & (2**62 - 1))
        crops = []
        for scale, view_size in self.views:
            top, left, h, w = crop_box(image.shape[-2], image.shape[-1], scale, (3 / 4, 4 / 3), generator)
            crops.append(F.resized_crop(image, top, left, h, w, [view_size, view_size], antialias=True))
        return crops, item["label"]
