"""Small batch-statistic helpers shared by several objectives."""

from __future__ import annotations

import torch
from torch import Tensor


def standardize(z: Tensor, eps: float) -> Tensor:
    """Per-dimension standardization over the batch, as a non-affine batch norm:
    (z - mean) / sqrt(biased variance + eps)."""
    z = z - z.mean(dim=0)
    return z / torch.sqrt(z.pow(2).mean(dim=0) + eps)
