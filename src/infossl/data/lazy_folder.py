"""An image folder decoded on demand, for data sets too large to hold in memory.

At start-up every file's header is verified (``PIL.Image.verify``: format,
structure and, for PNG, checksums, without decoding pixels); broken files are
skipped with one warning listing them, or fail the run then (``strict``).
A file that passes the check but still fails to decode later (a truncated
JPEG, say) is replaced by the next decodable image of the data set with a
warning naming it, so a long run never crashes mid-epoch on one bad file.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from infossl.data.sources import (
    ImageCollection,
    decode_image,
    report_broken,
    scan_image_folder,
    verify_image,
)
from infossl.errors import InputError


class FolderImages(ImageCollection):
    """Same interface as :class:`~infossl.data.sources.ImageSet`; pixels decoded per access."""

    def __init__(self, files: list[Path], labels: Tensor | None, classes: tuple[str, ...], image_size: int) -> None:
        self.files, self.labels, self.classes, self._size = files, labels, classes, image_size
        self._failed: set[Path] = set()

    @classmethod
    def scan(cls, root: str | Path, image_size: int, labelled: bool = True, strict: bool = False) -> FolderImages:
        entries, classes = scan_image_folder(root, labelled)
        reasons = {path: verify_image(path) for path, _ in entries}
        report_broken(Path(root), [f"{p}: {r}" for p, r in reasons.items() if r is not None], len(entries), strict)
        kept = [(p, c) for p, c in entries if reasons[p] is None]
        labels = torch.tensor([c for _, c in kept], dtype=torch.int64) if labelled else None
        return cls([p for p, _ in kept], labels, classes, image_size)

    def __len__(self) -> int:
        return len(self.files)

    @property
    def image_size(self) -> int:
        return self._size

    def subset(self, index: Tensor) -> FolderImages:
        index = torch.as_tensor(index).tolist()
        labels = None if self.labels is None else self.labels[index]
        return FolderImages([self.files[i] for i in index], labels, self.classes, self._size)

    def _decode(self, i: int) -> np.ndarray:
        for step in range(len(self.files)):
            path = self.files[(i + step) % len(self.files)]
            if path in self._failed:
                continue
            try:
                return decode_image(path, self._size)
            except ValueError as error:
                self._failed.add(path)
                warnings.warn(f"skipping an image that failed to decode during training: {error}", stacklevel=2)
        raise InputError(f"none of the {len(self.files)} images can be decoded")

    def get(self, index: Tensor) -> Tensor:
        """uint8 images (len(index), 3, H, W); an undecodable file is replaced by the next good one."""
        arrays = [self._decode(int(i)) for i in torch.as_tensor(index).reshape(-1)]
        return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()

    @property
    def images(self) -> Tensor:
        raise AttributeError(
            "a lazily decoded folder (data.in_memory=false) has no in-memory image tensor; use .get(index) or .batches(size)"
        )
