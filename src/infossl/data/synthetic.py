"""A procedurally generated image set with a known class structure.

Five shape classes (disc, square, triangle, plus, ring) drawn at a random
position and size with a random foreground colour on a random background
colour, plus pixel noise: colour carries no information about the class, so
an encoder must learn shape to separate them. Used by ``infossl quickstart``;
needs no network and no files.
"""

from __future__ import annotations

import numpy as np
import torch

from infossl.data.sources import ImageSet

SHAPES = ("disc", "square", "triangle", "plus", "ring")


def _masks(kind: np.ndarray, dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    ax, ay = np.abs(dx), np.abs(dy)
    dist = np.sqrt(dx**2 + dy**2)
    masks = np.stack(
        [
            dist < r,
            np.maximum(ax, ay) < 0.85 * r,
            (dy > -r) & (dy < r) & (ax < (dy + r) / 2),
            ((ax < r / 3) & (ay < r)) | ((ay < r / 3) & (ax < r)),
            (dist < r) & (dist > 0.55 * r),
        ]
    )  # (5, N, H, W)
    return np.take_along_axis(masks, kind[None, :, None, None], axis=0)[0]


def make_shapes(n: int, image_size: int = 32, seed: int = 0) -> ImageSet:
    """``n`` images of the five classes, balanced, in a seeded random order."""
    rng = np.random.default_rng(seed)
    kind = np.arange(n) % len(SHAPES)
    rng.shuffle(kind)
    s = image_size
    r = rng.uniform(0.22, 0.4, n) * s
    cx = rng.uniform(r, s - r)
    cy = rng.uniform(r, s - r)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) + 0.5
    dx = xx[None] - cx[:, None, None]
    dy = yy[None] - cy[:, None, None]
    mask = _masks(kind, dx, dy, r[:, None, None])
    foreground = rng.uniform(0, 255, (n, 3))
    background = rng.uniform(0, 255, (n, 3))
    # keep some contrast between shape and background
    close = np.abs(foreground - background).sum(1) < 120
    foreground[close] = 255 - background[close]
    image = np.where(mask[..., None], foreground[:, None, None], background[:, None, None])
    image = image + rng.normal(0, 12, image.shape)
    images = torch.from_numpy(np.clip(image, 0, 255).astype(np.uint8)).permute(0, 3, 1, 2).contiguous()
    return ImageSet(images, torch.from_numpy(kind.astype(np.int64)), SHAPES)
