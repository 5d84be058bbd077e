"""Shared fixtures: one factory per objective with an embedding size it accepts."""

from __future__ import annotations

from typing import Callable

import pytest
import torch

from infossl.losses import (
    BarlowTwinsLoss,
    BYOLLoss,
    DINOLoss,
    EMILoss,
    EntRecLoss,
    IMSVDLoss,
    InfoNCELoss,
    PairLoss,
    VICRegLoss,
)

# name -> (factory, embedding dimension that the objective accepts)
LOSS_CASES: dict[str, tuple[Callable[[], PairLoss], int]] = {
    "imsvd": (lambda: IMSVDLoss(num_states=4), 12),
    "imsvd_normalized": (lambda: IMSVDLoss(num_states=4, normalize_logits=True), 12),
    "emi": (lambda: EMILoss(), 3),
    "emi_groups": (lambda: EMILoss(groups=3), 6),
    "emi_auto_groups": (lambda: EMILoss(groups="auto"), 6),
    "emi_entropy": (lambda: EMILoss(entropy_weight=0.5, invariance_weight=1.0), 3),
    "entrec": (lambda: EntRecLoss(), 5),
    "entrec_average": (lambda: EntRecLoss(estimator="average"), 5),
    "infonce": (lambda: InfoNCELoss(), 5),
    "byol": (lambda: BYOLLoss(), 5),
    "barlow": (lambda: BarlowTwinsLoss(), 5),
    "vicreg": (lambda: VICRegLoss(), 5),
    "dino": (lambda: DINOLoss(prototypes=5), 5),
}


@pytest.fixture(params=sorted(LOSS_CASES))
def loss_case(request: pytest.FixtureRequest) -> tuple[str, PairLoss, int]:
    factory, dim = LOSS_CASES[request.param]
    return request.param, factory(), dim


def random_pair(n: int, d: int, dtype: torch.dtype = torch.float64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two correlated views, so every objective sees a non-trivial batch."""
    generator = torch.Generator().manual_seed(seed)
    base = torch.randn(n, d, generator=generator, dtype=dtype)
    z1 = base + 0.5 * torch.randn(n, d, generator=generator, dtype=dtype)
    z2 = base + 0.5 * torch.randn(n, d, generator=generator, dtype=dtype)
    return z1, z2
